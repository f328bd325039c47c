import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const PG = path.join(__dirname, "..", "..", "scripts", "inmanta", "pg.sh");

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/**
 * The lab's PostgreSQL runs as its own user when started by root, so it must reach its data folder.
 * A clone inside a folder only root may enter (`git clone . "$(mktemp -d)"`, then `npm run lab`)
 * keeps the cluster in a folder of its own under /tmp, named in DIR/cluster-dir.
 */
describe("lab PostgreSQL in a folder its user cannot reach (scripts/inmanta/pg.sh)", function () {
    this.timeout(120000);
    let parent: string;
    let port: number;
    const pg = (...args: string[]) => execFileSync("bash", [PG, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

    beforeEach(async () => {
        parent = fs.mkdtempSync(path.join(os.tmpdir(), "pg-dir-")); // mode 0700, as mktemp -d makes it
        port = await freePort();
    });
    afterEach(() => {
        const dir = path.join(parent, "lab", "pg");
        try { pg("stop", dir); } catch { /* not running */ }
        const pointer = path.join(dir, "cluster-dir");
        if (fs.existsSync(pointer)) fs.rmSync(fs.readFileSync(pointer, "utf8").trim(), { recursive: true, force: true });
        fs.rmSync(parent, { recursive: true, force: true });
    });

    it("starts, keeps its data across a stop, and starts empty once the folder is removed", () => {
        const dir = path.join(parent, "lab", "pg");
        pg("start", dir, String(port));
        const pointer = path.join(dir, "cluster-dir");
        if (process.getuid?.() !== 0) {
            // Not root: the server runs as this user, who reaches the folder itself.
            assert.equal(fs.existsSync(pointer), false);
        } else {
            const cluster = fs.readFileSync(pointer, "utf8").trim();
            assert.match(cluster, /^\/tmp\/upgrade-as-code-pg-[0-9a-f]{16}$/);
            assert.ok(fs.existsSync(path.join(cluster, "data", "PG_VERSION")), "the cluster is in the recorded folder");
            assert.equal(fs.existsSync(path.join(dir, "data")), false, "nothing of the cluster in the unreachable folder");
        }
        pg("psql", dir, String(port), "-tAc", "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7);");
        pg("stop", dir);
        assert.throws(() => pg("status", dir), (err: { status?: number; stdout?: string }) =>
            err.status === 3 && /not running/.test(err.stdout ?? ""));
        pg("start", dir, String(port));
        assert.equal(pg("psql", dir, String(port), "-tAc", "SELECT n FROM kept").trim(), "7");
        pg("stop", dir);

        fs.rmSync(path.join(parent, "lab"), { recursive: true, force: true });
        pg("start", dir, String(port));
        assert.equal(pg("psql", dir, String(port), "-tAc", "SELECT count(*) FROM pg_tables WHERE tablename = 'kept'").trim(), "0",
            "a removed lab folder starts the cluster over");
    });
});
