#!/usr/bin/env node
// Runs the lab Argo CD controller (controller.ts) as its own process:
//   node lab/argocd/start-controller.js --kubeconfig FILE --context NAME --source-root DIR [--namespace argocd] [--interval-ms 500]
require("../../bin/run-ts")("lab/argocd/controller.ts");
