import sys

from priyom_kit.service import cli, run

from .settings import RouterSettings


def migrate() -> None:
    """Bring the database to the newest schema; run before ``serve`` on every deploy."""
    from .store import migrate_database

    migrate_database(RouterSettings().database_url)


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_router.app:create_app", RouterSettings()), migrate=migrate)


if __name__ == "__main__":
    main()
