import sys

from priyom_kit.service import cli, run

from .settings import IdentitySettings


def migrate() -> None:
    """Bring the database to the newest schema; run before ``serve`` on every deploy."""
    from .store import migrate_database

    migrate_database(IdentitySettings().database_url)


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_identity.app:create_app", IdentitySettings()),
        migrate=migrate)


if __name__ == "__main__":
    main()
