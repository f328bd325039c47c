/**
 * A survival check written natively (components/openstack/survival.ts): a sentinel file in every node's
 * excluded data (var/log) must come through the eDeploy upgrade byte for byte.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { SurvivalCheck, SurvivalContext } from "../../../components/openstack/survival";

const SENTINEL = path.join("var", "log", "grenade-sentinel");

function nodes(ctx: SurvivalContext): string[] {
    const dir = ctx.env.LABCLOUD_NODES;
    if (!dir || !fs.existsSync(dir)) throw new Error(`LABCLOUD_NODES (${dir}) is not a folder of node trees`);
    return fs.readdirSync(dir).filter(n => fs.statSync(path.join(dir, n)).isDirectory()).sort();
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

function verifyAll(ctx: SurvivalContext): void {
    for (const node of nodes(ctx)) {
        const file = path.join(ctx.env.LABCLOUD_NODES, node, SENTINEL);
        const expected = ctx.get(`sha256_${node}`);
        if (!expected) throw new Error(`nothing saved for node ${node}`);
        if (!fs.existsSync(file)) throw new Error(`${file} is gone (${ctx.when})`);
        if (sha256(file) !== expected) throw new Error(`${file} changed (${ctx.when})`);
    }
    ctx.log(`sentinels intact on ${nodes(ctx).length} node(s) (${ctx.when})`);
}

const check: SurvivalCheck = {
    create(ctx) {
        for (const node of nodes(ctx)) {
            const file = path.join(ctx.env.LABCLOUD_NODES, node, SENTINEL);
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, randomBytes(256));
            ctx.save(`sha256_${node}`, sha256(file));
        }
    },
    verify: ctx => verifyAll(ctx),
    verifyNoapi: ctx => verifyAll(ctx),
    destroy(ctx) {
        for (const node of nodes(ctx)) fs.rmSync(path.join(ctx.env.LABCLOUD_NODES, node, SENTINEL), { force: true });
    },
};

export default check;
