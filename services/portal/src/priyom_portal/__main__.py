import sys

from priyom_kit.service import cli, run

from .settings import PortalSettings


def migrate() -> None:
    """Bring the database to the newest schema; run before ``serve`` on every deploy."""
    from .store import migrate_database

    migrate_database(PortalSettings().database_url)


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_portal.app:create_app", PortalSettings()), migrate=migrate)


if __name__ == "__main__":
    main()
