// Validates Kubernetes manifests against the OpenAPI schemas shipped in the kubernetes-models packages.
// Input: a JSON array of documents, on stdin or in the file named by the first argument.
// Output (stdout): a JSON array [{index, kind, name, errors: [...]}], one entry per document; an empty errors list
// means the document is valid. A document whose apiVersion/kind no installed package models is reported with the
// error "no schema for <apiVersion>/<kind>", never passed. Exits 0 once it has printed the result (2 on bad input).
import { readFileSync } from "node:fs";

// Where the model classes of a group/version may live, tried in order. The core group ("v1") is a top-level folder.
const PACKAGES = [
  "kubernetes-models",
  "@kubernetes-models/gateway-api",
  "@kubernetes-models/prometheus-operator",
  "@kubernetes-models/external-secrets",
];

const classCache = new Map();

async function modelClass(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (classCache.has(key)) return classCache.get(key);
  let found = null;
  if (/^[A-Za-z0-9.-]+(\/[A-Za-z0-9.-]+)?$/.test(apiVersion) && /^[A-Za-z0-9]+$/.test(kind)) {
    for (const pkg of PACKAGES) {
      try {
        const module = await import(`${pkg}/${apiVersion}/${kind}`);
        const cls = module[kind];
        // Only top-level resources carry their own apiVersion and kind; nested types (e.g. DeploymentSpec) do not.
        if (typeof cls === "function" && cls.apiVersion === apiVersion && cls.kind === kind) {
          found = cls;
          break;
        }
      } catch (error) {
        if (error?.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
      }
    }
  }
  classCache.set(key, found);
  return found;
}

function describe(error) {
  const where = error.instancePath || "/";
  switch (error.keyword) {
    case "required":
      return `${where}: missing required property "${error.params.missingProperty}"`;
    case "enum":
      return `${where}: must be one of ${JSON.stringify(error.params.allowedValues)}`;
    case "type":
      return `${where}: must be ${error.params.type}`;
    default:
      return `${where}: ${error.message ?? error.keyword} ${error.params ? JSON.stringify(error.params) : ""}`.trim();
  }
}

async function validateDocument(document, index) {
  const kind = typeof document?.kind === "string" ? document.kind : "";
  const name = typeof document?.metadata?.name === "string" ? document.metadata.name : "";
  const result = { index, kind, name, errors: [] };
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    result.errors.push("the document is not an object");
    return result;
  }
  if (typeof document.apiVersion !== "string" || document.apiVersion === "") result.errors.push("missing apiVersion");
  if (kind === "") result.errors.push("missing kind");
  if (name === "" && typeof document?.metadata?.generateName !== "string") result.errors.push("missing metadata.name");
  if (result.errors.length > 0) return result;
  const cls = await modelClass(document.apiVersion, kind);
  if (!cls) {
    result.errors.push(`no schema for ${document.apiVersion}/${kind}`);
    return result;
  }
  try {
    new cls(document).validate();
  } catch (error) {
    if (Array.isArray(error?.errors) && error.errors.length > 0) {
      result.errors.push(...new Set(error.errors.map(describe)));
    } else {
      result.errors.push(String(error?.message ?? error));
    }
  }
  return result;
}

const input = process.argv[2] ? readFileSync(process.argv[2], "utf8") : readFileSync(0, "utf8");
let documents;
try {
  documents = JSON.parse(input);
} catch (error) {
  console.error(`validate-manifests: the input is not JSON: ${error.message}`);
  process.exit(2);
}
if (!Array.isArray(documents)) {
  console.error("validate-manifests: the input must be a JSON array of documents");
  process.exit(2);
}
const results = [];
for (let i = 0; i < documents.length; i++) results.push(await validateDocument(documents[i], i));
process.stdout.write(JSON.stringify(results, null, 2) + "\n");
