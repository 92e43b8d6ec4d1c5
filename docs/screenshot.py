"""Take the screenshot of the quarterly review shown in the README (docs/quarterly-review.png).

Needs Debian's Chromium (``apt-get install chromium``); runs the demo into a temporary folder,
then renders its review headless:

    .venv/bin/python docs/screenshot.py [--out docs/quarterly-review.png] [--width 1280]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise SystemExit("Chromium not found: install Debian's package (apt-get install chromium)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "quarterly-review.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2200)
    args = parser.parse_args()

    from leadgov.config.settings import Settings
    from leadgov.demo import run_demo

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        result = run_demo(f"sqlite:///{work / 'demo.db'}", Settings(data_dir=work), work / "out")
        review = next(p for p in result.reports if p.name.startswith("review-"))
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={args.width},{args.height}", f"--screenshot={args.out}",
                        review.resolve().as_uri()], check=True, capture_output=True)
    print(args.out)


if __name__ == "__main__":
    main()
