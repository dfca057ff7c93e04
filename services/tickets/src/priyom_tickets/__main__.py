import sys

from priyom_kit.service import cli, run

from .settings import TicketsSettings


def main() -> None:
    cli(
        sys.argv[1:],
        serve=lambda: run("priyom_tickets.app:create_app", TicketsSettings()),
        migrate=lambda: _migrate(TicketsSettings()),
    )


def _migrate(settings: TicketsSettings) -> None:
    from .tables import migrate_database

    migrate_database(settings.database_url)


if __name__ == "__main__":
    main()
