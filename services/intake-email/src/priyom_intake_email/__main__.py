import sys

from priyom_kit.service import cli, run

from .settings import IntakeEmailSettings


def migrate() -> None:
    """Bring the database (IMAP checkpoints, sent replies) to the newest schema; run before ``serve``."""
    from .store import migrate_database

    migrate_database(IntakeEmailSettings().database_url)


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_intake_email.app:create_app", IntakeEmailSettings()),
        migrate=migrate)


if __name__ == "__main__":
    main()
