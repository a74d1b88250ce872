"""`python -m xindai.integrations.simulators [--host H] [--port P] [--log-level L]`; the rest
of the configuration comes from `XINDAI_SIM_*` variables (see `config`)."""

from __future__ import annotations

import argparse

from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m xindai.integrations.simulators")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    serve(SimulatorConfig.from_env(), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
