using System.Text.Json.Nodes;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Deploy;

/// <summary>
/// Validates manifests against the Kubernetes OpenAPI schemas of the npm kubernetes-models packages (core and the
/// gateway-api, prometheus-operator and external-secrets CRDs), through tests/node-clients/validate-manifests.mjs.
/// </summary>
public static class ManifestSchema
{
    /// <summary>
    /// One line per problem, "#index Kind/name: /json/path: message"; empty means every document is valid. A kind no
    /// package models is a problem ("no schema for ..."). Unknown fields are not reported (the schemas allow them).
    /// </summary>
    public static async Task<IReadOnlyList<string>> ValidateAsync(IReadOnlyList<JsonObject> documents)
    {
        if (!Directory.Exists(Path.Combine(NodeClients.Directory, "node_modules", "kubernetes-models")))
        {
            throw new InvalidOperationException("node_modules missing: the test command runs `npm ci` in tests/node-clients first (see ./test.sh)");
        }
        var input = new JsonArray(documents.Select(d => (JsonNode?)d.DeepClone()).ToArray()).ToJsonString();
        var result = await DeployTools.RunAsync("node", ["validate-manifests.mjs"], NodeClients.Directory, stdin: input);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"validate-manifests.mjs failed (exit {result.ExitCode}):\n{result.Stderr}");
        }
        var problems = new List<string>();
        foreach (var entry in DeployTools.ParseDocuments(result.Stdout))
        {
            var label = $"#{(int?)entry["index"]} {(string?)entry["kind"]}/{(string?)entry["name"]}";
            foreach (var error in entry["errors"] as JsonArray ?? new JsonArray())
            {
                problems.Add($"{label}: {(string?)error}");
            }
        }
        return problems;
    }
}
