"""The Python example in README.md runs as written (a README that lies is a defect)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md should contain a Python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme_example"})


def test_readme_gives_the_ci_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    commands = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    test_command = [line for block in commands for line in block.splitlines() if "pytest" in line]
    assert len(test_command) == 1, test_command
    assert test_command[0].strip() in ci
