// A SCIM 2.0 server on SCIMMY for hrsync's tests: Users and Groups in memory, bearer token.
//
//   SCIM_BEARER_TOKEN=secret node server.js PORT     (PORT 0: a free port)
//
// It prints one line, "SCIMMY listening on http://127.0.0.1:PORT/", once it accepts requests;
// the Python launcher (hrsync.testing.scim.start_scimmy_server) waits for it. SIGTERM stops it.
//
// SCIMMY parses, validates, filters, patches and formats; this file only keeps the resources
// (the ingress, egress and degress handlers). Users carry the enterprise extension and
// Winningtemp's user extension, read from ../schemas/winningtemp_user.json so that both test
// servers serve the same schema.

import {readFileSync} from "node:fs";
import {randomUUID} from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const token = process.env.SCIM_BEARER_TOKEN;
if (!token) {
    console.error("SCIM_BEARER_TOKEN is not set");
    process.exit(2);
}
const port = Number(process.argv[2] ?? 0);

// --- schemas ---

// A SCIM schema document (RFC 7643 §7) as a SCIMMY schema definition.
function definitionOf(schema) {
    return new SCIMMY.Types.SchemaDefinition(
        schema.name, schema.id, schema.description ?? "", schema.attributes.map(attributeOf));
}

function attributeOf(attribute) {
    const config = {
        multiValued: attribute.multiValued ?? false,
        description: attribute.description ?? "",
        required: attribute.required ?? false,
        caseExact: attribute.caseExact ?? false,
        mutable: attribute.mutability === "readOnly" ? false
            : (attribute.mutability ?? "readWrite") === "readWrite" ? true : attribute.mutability,
        returned: (attribute.returned ?? "default") === "default" ? true : attribute.returned,
        uniqueness: attribute.uniqueness ?? "none",
        ...(attribute.canonicalValues ? {canonicalValues: attribute.canonicalValues} : {}),
    };
    return new SCIMMY.Types.Attribute(
        attribute.type, attribute.name, config, (attribute.subAttributes ?? []).map(attributeOf));
}

const winningtemp = JSON.parse(readFileSync(
    new URL("../schemas/winningtemp_user.json", import.meta.url), "utf8"));

// --- the store ---

const users = new Map();
const groups = new Map();

// A stored resource: what SCIMMY validated, as plain JSON, with the server's own attributes.
function store(resources, resource, instance, resourceType) {
    const now = new Date().toISOString();
    const previous = resource.id ? resources.get(resource.id) : undefined;
    if (resource.id && !previous) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    const id = previous?.id ?? randomUUID();
    const {meta: _ignored, id: _id, ...attributes} = JSON.parse(JSON.stringify(instance));
    const stored = {
        ...attributes,
        id,
        meta: {resourceType, created: previous?.meta.created ?? now, lastModified: now},
    };
    resources.set(id, stored);
    return stored;
}

function find(resources, resource) {
    if (resource.id) {
        const found = resources.get(resource.id);
        if (!found) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        return found;
    }
    const all = [...resources.values()];
    return resource.filter ? all.filter(stored => isMatch(resource.filter, stored)) : all;
}

// SCIMMY's Filter.match compares plain objects: it throws on a complex attribute the resource
// lacks (`name.familyName eq` against a user without a name), and it looks an extension's
// attribute up under its full path ("urn:…:User:employeeNumber"), so each resource is matched
// alone, with its extension attributes also under their full paths. Values are compared as
// SCIMMY compares them: exactly, even for attributes RFC 7643 calls caseExact false.
function isMatch(filter, stored) {
    const view = {...stored};
    for (const [key, value] of Object.entries(stored))
        if (key.startsWith("urn:") && value instanceof Object)
            for (const [name, attribute] of Object.entries(value)) view[`${key}:${name}`] = attribute;
    try {
        return filter.match([view]).length > 0;
    } catch (error) {
        if (error instanceof TypeError) return false;
        throw error;
    }
}

function isUserNameTaken(userName, exceptId) {
    const wanted = String(userName).toLowerCase(); // userName is caseExact false (RFC 7643 §4.1.1)
    return [...users.values()].some(u => u.id !== exceptId && u.userName.toLowerCase() === wanted);
}

SCIMMY.Resources.declare(SCIMMY.Resources.User
    .ingress((resource, instance) => {
        if (isUserNameTaken(instance.userName, resource.id))
            throw new SCIMMY.Types.Error(409, "uniqueness", `userName ${instance.userName} is taken`);
        return store(users, resource, instance, "User");
    })
    .egress(resource => find(users, resource))
    .degress(resource => {
        if (!users.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        // A deleted user leaves the groups it was a member of (RFC 7644 §3.6 lets the server do this).
        for (const group of groups.values())
            if (group.members) group.members = group.members.filter(m => m.value !== resource.id);
    }));

SCIMMY.Resources.declare(SCIMMY.Resources.Group
    .ingress((resource, instance) => store(groups, resource, instance, "Group"))
    .egress(resource => find(groups, resource))
    .degress(resource => {
        if (!groups.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    }));

SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
SCIMMY.Resources.User.extend(definitionOf(winningtemp), false);

// --- HTTP ---

const app = express();
app.disable("x-powered-by");
app.disable("etag"); // Express would hash every body into an ETag; SCIMMY versions nothing
const isAuthorised = request => request.header("Authorization") === `Bearer ${token}`;

// SCIMMY answers a 401 without saying how to authenticate; RFC 6750 §3 wants the challenge.
app.use((request, response, next) => {
    if (!isAuthorised(request)) response.set("WWW-Authenticate", 'Bearer realm="SCIM"');
    next();
});
app.use("/", new SCIMMYRouters({
    type: "bearer",
    handler: request => {
        if (!isAuthorised(request)) throw new Error("Authorization failure: the bearer token is missing or wrong");
        // No user id: a token is not a user, so /Me answers 501 (as on scim2-server).
    },
    // Absolute meta.location, on the host the client asked for (a proxy in front keeps its own).
    baseUri: request => `http://${request.header("Host")}`,
}));
// After the routers: they switch bulk on when constructed, and sort is done by SCIMMY's lists.
SCIMMY.Config.set({patch: true, filter: {supported: true, maxResults: 200}, bulk: false, sort: true});

const server = app.listen(port, "127.0.0.1", () => {
    console.log(`SCIMMY listening on http://127.0.0.1:${server.address().port}/`);
});
server.on("error", error => {
    console.error(`cannot listen: ${error.message}`);
    process.exit(1);
});
// Orphaned (the test process died without stopping it): nobody will, so stop now.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 1000).unref();
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
});
