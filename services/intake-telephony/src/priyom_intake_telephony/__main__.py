import sys

from priyom_kit.service import cli, run

from .settings import IntakeTelephonySettings


def migrate() -> None:
    """Bring the database (calls in progress, the contacts' outbox) to the newest schema; run before ``serve``."""
    from .store import migrate_database

    migrate_database(IntakeTelephonySettings().database_url)


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_intake_telephony.app:create_app", IntakeTelephonySettings()),
        migrate=migrate)


if __name__ == "__main__":
    main()
