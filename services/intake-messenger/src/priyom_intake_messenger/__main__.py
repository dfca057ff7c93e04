import sys

from priyom_kit.service import cli, run

from .settings import IntakeMessengerSettings


def migrate() -> None:
    """Bring the database (the journal of delivered replies) to the newest schema; run before ``serve``."""
    from .store import migrate_database

    migrate_database(IntakeMessengerSettings().database_url)


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_intake_messenger.app:create_app", IntakeMessengerSettings()),
        migrate=migrate)


if __name__ == "__main__":
    main()
