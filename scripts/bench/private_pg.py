"""A PostgreSQL cluster of a benchmark's own: initdb into a temp folder, started on a free port
with pg_stat_statements loaded, so statements per request can be counted exactly and the CPU of
its processes is the benchmark's alone. Stopped and deleted at the end (BENCH_KEEP keeps it)."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def _bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit(f"{name} is missing: apt-get install postgresql")
    return found[-1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    def __init__(self, settings=None):
        self.settings = {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.max": "10000",
                         "max_connections": "200", "listen_addresses": "127.0.0.1", **(settings or {})}
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"
        self.dir = None

    def _as_owner(self, args, **kwargs):
        # initdb and postgres refuse to run as root: run them as the postgres user then.
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, **kwargs)

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="mtenant-bench-pg-")
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        data = os.path.join(self.dir, "data")
        self._as_owner([_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"], stdout=subprocess.DEVNULL)
        options = " ".join(f"-c {key}={value}" for key, value in self.settings.items())
        self._as_owner([_bin("pg_ctl"), "-D", data, "-w", "-l", os.path.join(self.dir, "log"),
                        "-o", f"-p {self.port} -k {self.dir} {options}", "start"], stdout=subprocess.DEVNULL)
        self.sql("postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return self

    def __exit__(self, *_):
        data = os.path.join(self.dir, "data")
        self._as_owner([_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"], stdout=subprocess.DEVNULL)
        if os.environ.get("BENCH_KEEP"):
            print(f"== cluster kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, database, statement):
        out = subprocess.run(["psql", f"{self.url}/{database}", "-Atqc", statement], capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def postmaster(self):
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as pid:
            return int(pid.readline())

    def statements(self, database):
        """Statements executed in `database` so far (pg_stat_statements' calls; asked from another
        database, so the asking is not counted)."""
        total = self.sql("postgres", "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                                   f"WHERE d.datname = '{database}'")
        return int(total)

    def transactions(self, database):
        return int(self.sql("postgres", f"SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '{database}'") or 0)
