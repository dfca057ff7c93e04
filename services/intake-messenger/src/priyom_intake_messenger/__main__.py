import sys

from priyom_kit.service import cli, run

from .settings import IntakeMessengerSettings


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_intake_messenger.app:create_app", IntakeMessengerSettings()))


if __name__ == "__main__":
    main()
