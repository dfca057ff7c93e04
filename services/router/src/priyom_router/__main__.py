import sys

from priyom_kit.service import cli, run

from .settings import RouterSettings


def main() -> None:
    cli(sys.argv[1:], serve=lambda: run("priyom_router.app:create_app", RouterSettings()))


if __name__ == "__main__":
    main()
