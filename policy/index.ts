import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// The pack's entry point. Only this file creates the PolicyPack: its constructor starts the gRPC server
// the engine talks to, so tests import the policies from ./policies instead.
new PolicyPack("upgrade-safety", {
    description: "Refuses upgrade runbooks whose step graph skips a safety step of the operational procedures.",
    policies,
});
