import sys

from priyom_kit.service import cli, run

from .settings import IntakeEmailSettings


def main() -> None:
    cli(
        sys.argv[1:],
        serve=lambda: run("priyom_intake_email.app:create_app", IntakeEmailSettings()),
        migrate=lambda: _migrate(IntakeEmailSettings()),
    )


def _migrate(settings: IntakeEmailSettings) -> None:
    from .store import migrate

    migrate(settings.database_url)


if __name__ == "__main__":
    main()
