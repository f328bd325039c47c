#!/usr/bin/env node
// Generates the Pulumi package schema that GetSchema serves (../schema_gen.go) from the published SDK it stands
// for: the type declarations and code of the npm package @pulumi/command (pinned to 1.2.1 in package.json), read
// with the TypeScript compiler API. The npm package ships no schema.json, so the schema is rebuilt from what the
// SDK's code generator wrote from it:
//   - resources: the `__pulumiType` token of each class, its `readonly` outputs and its `<Name>Args` inputs
//     (required = not optional in TypeScript / "Missing required property" checks), descriptions from the JSDoc;
//   - functions: the token passed to pulumi.runtime.invoke, `<Name>Args` and `<Name>Result`;
//   - object types from types/input.d.ts and types/output.d.ts, defaults from their `...ProvideDefaults`
//     helpers, enums from types/enums;
//   - `secret` from additionalSecretOutputs, `replaceOnChanges` from the replaceOnChanges option.
// Usage: node generate.js [--check]   (--check: exit 1 when ../schema_gen.go is not what it would write)
"use strict";
const fs = require("fs");
const path = require("path");

const here = __dirname;
const root = path.resolve(here, "..", "..", "..");
const ts = require(require.resolve("typescript", { paths: [root] }));
const sdk = path.dirname(require.resolve("@pulumi/command/package.json", { paths: [root] }));
const pkg = JSON.parse(fs.readFileSync(path.join(sdk, "package.json"), "utf8"));

function source(rel) {
    const file = path.join(sdk, rel);
    return ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
}

function jsdoc(node) {
    const docs = (node.jsDoc || []).map(d => (typeof d.comment === "string" ? d.comment : ts.getTextOfJSDocComment(d.comment) || ""));
    const text = docs.join("\n").trim();
    return text || undefined;
}

// Maps a TypeScript type (as the SDK spells it) to a schema type spec.
function typeSpec(node, mod) {
    if (!node) return { $ref: "pulumi.json#/Any" };
    switch (node.kind) {
        case ts.SyntaxKind.StringKeyword: return { type: "string" };
        case ts.SyntaxKind.NumberKeyword: return { type: "number" };
        case ts.SyntaxKind.BooleanKeyword: return { type: "boolean" };
        case ts.SyntaxKind.AnyKeyword: return { $ref: "pulumi.json#/Any" };
        case ts.SyntaxKind.ArrayType: return { type: "array", items: typeSpec(node.elementType, mod) };
        case ts.SyntaxKind.ParenthesizedType: return typeSpec(node.type, mod);
        case ts.SyntaxKind.TypeLiteral: {
            const index = node.members.find(m => m.kind === ts.SyntaxKind.IndexSignature);
            if (index) return { type: "object", additionalProperties: typeSpec(index.type, mod) };
            break;
        }
        case ts.SyntaxKind.UnionType: {
            const parts = node.types.filter(t => t.kind !== ts.SyntaxKind.UndefinedKeyword);
            const names = parts.map(t => t.getText());
            if (names.includes("pulumi.asset.Asset") && names.includes("pulumi.asset.Archive")) return { $ref: "pulumi.json#/Asset" };
            if (parts.length === 1) return typeSpec(parts[0], mod);
            break;
        }
        case ts.SyntaxKind.TypeReference: {
            const name = node.typeName.getText();
            const args = node.typeArguments || [];
            if (name === "pulumi.Input" || name === "pulumi.Output" || name === "Promise") return typeSpec(args[0], mod);
            if (name === "pulumi.asset.Asset") return { $ref: "pulumi.json#/Asset" };
            if (name === "pulumi.asset.Archive") return { $ref: "pulumi.json#/Archive" };
            if (name === "pulumi.asset.AssetOrArchive") return { $ref: "pulumi.json#/Asset" };
            const m = /^(?:inputs|outputs|enums)\.(\w+)\.(\w+?)(?:Args)?$/.exec(name);
            if (m) return { $ref: `#/types/command:${m[1]}:${m[2]}` };
            break;
        }
    }
    throw new Error(`generate.js: no schema type for TypeScript type "${node.getText()}" (module ${mod})`);
}

function isOptional(member) {
    if (member.questionToken) return true;
    const t = member.type && (member.type.typeArguments ? member.type.typeArguments[0] : member.type);
    return !!(t && t.kind === ts.SyntaxKind.UnionType && t.types.some(x => x.kind === ts.SyntaxKind.UndefinedKeyword));
}

function properties(members, mod, defaults = {}) {
    const props = {};
    const required = [];
    for (const m of members) {
        if (m.kind !== ts.SyntaxKind.PropertySignature && m.kind !== ts.SyntaxKind.PropertyDeclaration) continue;
        if (m.modifiers && m.modifiers.some(x => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
        const name = m.name.getText();
        if (name.startsWith("__")) continue;
        const spec = { ...typeSpec(m.type, mod) };
        const description = jsdoc(m);
        if (description) spec.description = description;
        if (name in defaults) spec.default = defaults[name];
        props[name] = spec;
        if (!isOptional(m)) required.push(name);
    }
    return { props, required: required.sort() };
}

function find(sf, kind, name) {
    let found;
    const visit = n => {
        if (!found && n.kind === kind && n.name && n.name.getText() === name) found = n;
        ts.forEachChild(n, visit);
    };
    visit(sf);
    return found;
}

function sortKeys(o) {
    return Object.fromEntries(Object.keys(o).sort().map(k => [k, o[k]]));
}

// Defaults the SDK applies to an object type: `x: (val.x) ?? 10` in types/input.js.
function providedDefaults(typeName) {
    const js = fs.readFileSync(path.join(sdk, "types", "input.js"), "utf8");
    const fn = new RegExp(`function ${typeName[0].toLowerCase()}${typeName.slice(1)}ArgsProvideDefaults\\(val\\) \\{([\\s\\S]*?)\\n    \\}`).exec(js);
    const out = {};
    if (!fn) return out;
    for (const m of fn[1].matchAll(/(\w+): \(val\.\w+\) \?\? ([^,\n]+),/g)) out[m[1]] = JSON.parse(m[2]);
    return out;
}

const schema = {
    name: pkg.pulumi.name,
    displayName: "Command",
    version: pkg.version,
    description: "The Pulumi Command Provider enables you to execute commands and scripts either locally or remotely as part of the Pulumi resource model.",
    keywords: pkg.keywords,
    homepage: pkg.homepage,
    license: pkg.license,
    repository: pkg.repository,
    publisher: "Pulumi",
    meta: { moduleFormat: "(.*)" },
    language: { nodejs: { dependencies: pkg.dependencies, respectSchemaVersion: true } },
    config: {},
    provider: { type: "object" },
    resources: {},
    functions: {},
    types: {},
};

const referenced = new Set();
const collectRefs = spec => JSON.stringify(spec, (k, v) => {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/types/")) referenced.add(v.slice("#/types/".length));
    return v;
});

for (const mod of ["local", "remote"]) {
    for (const file of fs.readdirSync(path.join(sdk, mod)).filter(f => f.endsWith(".js") && f !== "index.js").sort()) {
        const js = fs.readFileSync(path.join(sdk, mod, file), "utf8");
        const dts = source(path.join(mod, file.replace(/\.js$/, ".d.ts")));
        const resource = /(\w+)\.__pulumiType = '([^']+)'/.exec(js);
        if (resource) {
            const [, className, token] = resource;
            const cls = find(dts, ts.SyntaxKind.ClassDeclaration, className);
            const args = find(dts, ts.SyntaxKind.InterfaceDeclaration, `${className}Args`);
            const outs = properties(cls.members, mod);
            const ins = properties(args.members, mod);
            for (const m of js.matchAll(/Missing required property '(\w+)'/g)) if (!ins.required.includes(m[1])) ins.required.push(m[1]);
            const secrets = /additionalSecretOutputs: \[([^\]]*)\]/.exec(js);
            for (const s of secrets ? secrets[1].match(/"(\w+)"/g).map(x => x.slice(1, -1)) : []) {
                if (outs.props[s]) outs.props[s].secret = true;
                if (ins.props[s]) ins.props[s].secret = true;
            }
            const roc = /replaceOnChanges: \[((?:"[^"]*",?\s*)*)\]/.exec(js);
            for (const r of roc ? roc[1].match(/"([^"]+)"/g).map(x => x.slice(1, -1).replace(/\[\*\]$/, "")) : []) {
                if (outs.props[r]) outs.props[r].replaceOnChanges = true;
                if (ins.props[r]) ins.props[r].replaceOnChanges = true;
            }
            const spec = {
                description: jsdoc(cls),
                properties: sortKeys(outs.props),
                type: "object",
                required: outs.required,
                inputProperties: sortKeys(ins.props),
                requiredInputs: ins.required.sort(),
            };
            const deprecated = (cls.jsDoc || []).flatMap(d => d.tags || []).find(t => t.tagName.getText() === "deprecated");
            if (deprecated) spec.deprecationMessage = ts.getTextOfJSDocComment(deprecated.comment) || "";
            collectRefs(spec);
            schema.resources[token] = spec;
            continue;
        }
        const invoke = /pulumi\.runtime\.invoke\("([^"]+)"/.exec(js);
        if (invoke) {
            const token = invoke[1];
            const fnName = token.split(":")[2];
            const fn = find(dts, ts.SyntaxKind.FunctionDeclaration, fnName);
            const camel = fnName[0].toUpperCase() + fnName.slice(1);
            const args = properties(find(dts, ts.SyntaxKind.InterfaceDeclaration, `${camel}Args`).members, mod);
            const result = properties(find(dts, ts.SyntaxKind.InterfaceDeclaration, `${camel}Result`).members, mod);
            const spec = {
                description: jsdoc(fn),
                inputs: { properties: sortKeys(args.props), type: "object", required: args.required },
                outputs: { properties: sortKeys(result.props), type: "object", required: result.required },
            };
            collectRefs(spec);
            schema.functions[token] = spec;
        }
    }
}

// Object types (inputs and outputs name the same ones) and enums, as far as they are referenced.
const inputs = source(path.join("types", "input.d.ts"));
const outputs = source(path.join("types", "output.d.ts"));
for (let pending = [...referenced]; pending.length;) {
    const token = pending.shift();
    if (schema.types[token]) continue;
    const [, mod, name] = token.split(":");
    const enumFile = path.join("types", "enums", mod, "index.d.ts");
    const enumDecl = fs.existsSync(path.join(sdk, enumFile)) && find(source(enumFile), ts.SyntaxKind.VariableDeclaration, name);
    if (enumDecl) {
        schema.types[token] = {
            type: "string",
            enum: enumDecl.type.members.map(m => ({
                name: m.name.getText(), value: JSON.parse(m.type.literal.getText()),
                ...(jsdoc(m) ? { description: jsdoc(m) } : {}),
            })),
        };
        continue;
    }
    const input = find(inputs, ts.SyntaxKind.InterfaceDeclaration, `${name}Args`);
    const output = find(outputs, ts.SyntaxKind.InterfaceDeclaration, name);
    const decl = output || input;
    if (!decl) throw new Error(`generate.js: type ${token} is referenced but not declared`);
    const defaults = providedDefaults(name);
    const { props, required } = properties((input || decl).members, mod, defaults);
    const before = referenced.size;
    const spec = { description: jsdoc(decl), properties: sortKeys(props), type: "object", required: required.filter(r => !(r in defaults)) };
    if (!spec.required.length) delete spec.required;
    collectRefs(spec);
    schema.types[token] = spec;
    if (referenced.size > before) pending = [...referenced].filter(t => !schema.types[t]);
}
schema.resources = sortKeys(schema.resources);
schema.functions = sortKeys(schema.functions);
schema.types = sortKeys(schema.types);

// Empty lists are left out, as in any schema the Pulumi tools write.
const json = JSON.stringify(schema, (k, v) => (Array.isArray(v) && v.length === 0 ? undefined : v), 4);
const goFile = path.join(here, "..", "schema_gen.go");
const go = "// Code generated by schema/generate.js from the type declarations of the npm package @pulumi/command " +
    `${pkg.version}; DO NOT EDIT.\n\npackage main\n\n// schemaJSON is the package schema GetSchema serves.\nconst schemaJSON = ${JSON.stringify(json)}\n`;
if (process.argv.includes("--check")) {
    const current = fs.existsSync(goFile) ? fs.readFileSync(goFile, "utf8") : "";
    if (current !== go) {
        process.stderr.write(`${goFile} is not what schema/generate.js writes from @pulumi/command ${pkg.version}: run node engine/provider-command/schema/generate.js\n`);
        process.exit(1);
    }
} else {
    fs.writeFileSync(goFile, go);
}
process.stdout.write(json + "\n");
