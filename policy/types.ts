// The policy SDK's types, for code outside this package (the tests import them from here, so they
// resolve against policy/node_modules).
export type {
    PolicyResource, Policies, ReportViolation, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
