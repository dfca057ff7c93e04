import sys

from priyom_kit.service import cli, run

from .settings import IntakeWebSettings


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_intake_web.app:create_app", IntakeWebSettings()))


if __name__ == "__main__":
    main()
