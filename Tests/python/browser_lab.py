"""What the real-browser test needs around it: a JupyterLab server on loopback (a free port, a token,
no browser, every Jupyter folder in a temporary directory so nothing lands in the user's), headless
Chromium driven by Selenium (Debian's chromium and chromium-driver), and a few JupyterLab waits and
look-ups that the test reads better without.

Both are context managers that stop what they started: the server's kernels are shut down through
its REST API, the server's process group is ended, Chromium quits, and any PruneLang kernel still
running with this run's folder in its command line is named (and ended) so the test can fail on it;
processes_naming finds such processes (Chromium's name its profile folder)."""
import contextlib
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# Debian's paths; CHROMIUM and CHROMEDRIVER override them.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"


class ChromiumUnavailable(Exception):
    """Chromium or its driver is missing or does not start here."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter_env(base: pathlib.Path, jupyter_path: str):
    env = dict(os.environ)
    env.update({
        "JUPYTER_PATH": jupyter_path,                       # the PruneLang kernelspec (conftest.py)
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_PLATFORM_DIRS": "1",
    })
    return env


def _write_lab_settings(settings: pathlib.Path):
    """No news or update pop-ups over the notebook (they would cover the toolbar in screenshots)."""
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def processes_naming(marker: str):
    """PIDs of processes whose command line names `marker` (this run's temporary folder)."""
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            found.append((int(proc.name), cmd.strip()))
    return found


class LabServer:
    """`jupyter lab` serving `root` on 127.0.0.1; `url(path)` gives a page's address with the token."""

    def __init__(self, jupyter: pathlib.Path, root: pathlib.Path, base: pathlib.Path, jupyter_path: str):
        self.jupyter, self.root, self.base, self.jupyter_path = jupyter, root, base, jupyter_path
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.log_path = base / "jupyterlab.log"
        self.proc = None
        self.leftovers = []

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}?token={self.token}"

    def api(self, path, method="GET"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def log_tail(self, n=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def __enter__(self):
        for d in ("config", "data", "runtime", "settings", "workspaces"):
            (self.base / d).mkdir(parents=True, exist_ok=True)
        _write_lab_settings(self.base / "settings")
        cmd = [str(self.jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}", "--ServerApp.terminals_enabled=False",
               "--LabApp.extension_manager=readonly", "--allow-root"]
        self._log = open(self.log_path, "w")
        # Its own process group, so that stopping it reaches whatever it started in that group.
        self.proc = subprocess.Popen(cmd, env=_jupyter_env(self.base, self.jupyter_path), stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        while True:
            if self.proc.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("status")
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"jupyter lab did not answer in 180 s:\n{self.log_tail()}")
                time.sleep(0.5)

    def __exit__(self, *exc):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                for k in self.api("kernels"):
                    self.api(f"kernels/{k['id']}", method="DELETE")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._log.close()
        # Kernels run in their own sessions: any left names this run's runtime folder (its connection file).
        deadline = time.monotonic() + 10
        while (left := processes_naming(str(self.base))) and time.monotonic() < deadline:
            time.sleep(0.5)
        self.leftovers = left
        for pid, _ in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc = None


@contextlib.contextmanager
def chromium(profile: pathlib.Path, width=1400, height=1000):
    """A headless Chromium session; ChromiumUnavailable where the browser or driver cannot start."""
    if not pathlib.Path(CHROMIUM).exists() or not pathlib.Path(CHROMEDRIVER).exists():
        raise ChromiumUnavailable(f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): "
                                  "scripts/ensure-deps installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    except WebDriverException as e:
        raise ChromiumUnavailable(f"headless Chromium did not start: {e.msg or e}") from e
    try:
        driver.set_page_load_timeout(180)
        driver.set_script_timeout(60)
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.quit()
        # quit() stops chromedriver too; make sure of it (a driver left behind would outlive the test).
        service = getattr(driver.service, "process", None)
        if service is not None and service.poll() is None:
            try:
                service.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait(timeout=15)


def wait(driver, seconds, condition, message):
    """WebDriverWait that also retries through stale elements (JupyterLab re-renders outputs)."""
    return WebDriverWait(driver, seconds, poll_frequency=0.25,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition, message)


def prompts(driver):
    """The input prompts of the notebook's code cells, in order ("[ ]:", "[*]:", "[3]:")."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell"
        " .jp-InputArea-prompt')).map(e => e.textContent.trim());")


def kernel_status(driver):
    """The status bar's kernel text, e.g. "PruneLang | Idle"."""
    return driver.execute_script(
        "const e = document.querySelector('.jp-StatusBar-TextItem[title^=\"Change kernel\"]');"
        "return e ? e.textContent.trim() : '';")


def by_css(driver, css):
    return driver.find_elements(By.CSS_SELECTOR, css)
