import sys

from priyom_kit.service import cli, run

from .settings import IntakeTelephonySettings


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_intake_telephony.app:create_app", IntakeTelephonySettings()))


if __name__ == "__main__":
    main()
