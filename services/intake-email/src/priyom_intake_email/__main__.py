import sys

from priyom_kit.service import cli, run

from .settings import IntakeEmailSettings


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_intake_email.app:create_app", IntakeEmailSettings()))


if __name__ == "__main__":
    main()
