import { strict as assert } from "assert";
import { Change, changesDigest, decideApproval } from "../components/inmanta/approval";

const file = (path: string, from: string, to: string, v = 3): Change => ({
    resourceId: `std::File[vm1,path=${path}]${v ? `,v=${v}` : ""}`.replace(/,v=\d+$/, ""),
    status: "modified",
    attributes: { content: { from, to } },
});

describe("approval gate", () => {
    const changes = [file("/etc/a", "1", "2"), file("/etc/b", "x", "y")];

    it("gives the same digest whatever the order and the version suffix", () => {
        const reordered = [changes[1], { ...changes[0], resourceId: `${changes[0].resourceId},v=9` }];
        assert.equal(changesDigest(reordered), changesDigest(changes));
        assert.match(changesDigest(changes), /^sha256:[0-9a-f]{64}$/);
    });

    it("gives a different digest when any value changes", () => {
        assert.notEqual(changesDigest([file("/etc/a", "1", "3"), changes[1]]), changesDigest(changes));
    });

    it("fails unapproved changes, listing them with the digest and how to approve", () => {
        const d = decideApproval(changes, { digests: [], allow: [], allowEmpty: true }, { stack: "lsm-upgrade" });
        assert.equal(d.approved, false);
        if (d.approved) return;
        assert.equal(d.unexpected.length, 2);
        assert.ok(d.message.includes("std::File[vm1,path=/etc/a]"));
        assert.ok(d.message.includes("content: 1 -> 2"));
        assert.ok(d.message.includes(d.digest));
        assert.ok(d.message.includes("stacks/Pulumi.lsm-upgrade.yaml"));
    });

    it("passes changes whose digest a reviewer committed", () => {
        const digest = changesDigest(changes);
        assert.deepEqual(decideApproval(changes, { digests: [digest], allow: [], allowEmpty: false }),
            { approved: true, reason: "digest", digest });
    });

    it("passes changes the allow-list explains completely, and only those", () => {
        const allow = [{ resource: "std::File[vm1,path=/etc/*]", status: ["modified"], attributes: ["content"] }];
        assert.equal(decideApproval(changes, { digests: [], allow, allowEmpty: false }).approved, true);
        const extra = [...changes, { resourceId: "std::Service[vm1,name=sshd]", status: "modified", attributes: { state: { from: "running", to: "stopped" } } }];
        const d = decideApproval(extra, { digests: [], allow, allowEmpty: false });
        assert.equal(d.approved, false);
        if (!d.approved) assert.deepEqual(d.unexpected.map(c => c.resourceId), ["std::Service[vm1,name=sshd]"]);
        const narrow = [{ resource: "std::File[*]", attributes: ["owner"] }];
        assert.equal(decideApproval(changes, { digests: [], allow: narrow, allowEmpty: false }).approved, false);
        const deletedOnly = [{ resource: "std::File[*]", status: ["deleted"] }];
        assert.equal(decideApproval(changes, { digests: [], allow: deletedOnly, allowEmpty: false }).approved, false);
    });

    it("passes an empty dry run only when the stack allows it", () => {
        assert.equal(decideApproval([], { digests: [], allow: [], allowEmpty: true }).approved, true);
        const d = decideApproval([], { digests: [], allow: [], allowEmpty: false });
        assert.equal(d.approved, false);
        if (!d.approved) assert.match(d.message, /no changes.*allowEmpty is false/s);
        assert.equal(decideApproval([], { digests: [changesDigest([])], allow: [], allowEmpty: false }).approved, true);
    });
});
