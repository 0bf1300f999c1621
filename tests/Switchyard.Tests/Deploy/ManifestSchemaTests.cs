using System.Text.Json.Nodes;
using Xunit;

namespace Switchyard.Tests.Deploy;

/// <summary>ManifestSchema really checks: valid manifests pass, broken ones and unknown kinds are reported.</summary>
public sealed class ManifestSchemaTests
{
    private static JsonObject Deployment(string containers = """[{ "name": "app", "image": "example/app:1", "ports": [{ "containerPort": 8080 }] }]""",
        string replicas = "2") => JsonNode.Parse($$"""
        {
          "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "app" },
          "spec": {
            "replicas": {{replicas}},
            "selector": { "matchLabels": { "app": "app" } },
            "template": { "metadata": { "labels": { "app": "app" } }, "spec": { "containers": {{containers}} } }
          }
        }
        """)!.AsObject();

    [Fact]
    public async Task A_valid_deployment_and_the_rendered_sample_chart_pass()
    {
        var render = await HelmRenderer.RenderAsync("deploy/helm/tests/fixtures/sample");
        Assert.True(render.ExitCode == 0, render.Stderr);

        var problems = await ManifestSchema.ValidateAsync([Deployment(), .. render.Documents]);

        Assert.Empty(problems);
    }

    [Fact]
    public async Task Broken_deployments_are_reported_field_by_field()
    {
        var problems = await ManifestSchema.ValidateAsync(
        [
            Deployment(replicas: "\"two\""),
            Deployment(containers: """[{ "image": "example/app:1" }]"""),
            Deployment(containers: "\"x\""),
            Deployment(containers: """[{ "name": "app", "ports": [{ "containerPort": "8080" }] }]"""),
            Deployment(containers: """[{ "name": "app", "imagePullPolicy": "Sometimes" }]"""),
        ]);

        Assert.Contains("#0 Deployment/app: /spec/replicas: must be integer", problems);
        Assert.Contains("#1 Deployment/app: /spec/template/spec/containers/0: missing required property \"name\"", problems);
        Assert.Contains("#2 Deployment/app: /spec/template/spec/containers: must be array", problems);
        Assert.Contains("#3 Deployment/app: /spec/template/spec/containers/0/ports/0/containerPort: must be integer", problems);
        Assert.Contains(problems, p => p.StartsWith("#4 Deployment/app: /spec/template/spec/containers/0/imagePullPolicy: must be one of", StringComparison.Ordinal));
        Assert.Equal(5, problems.Count);
    }

    [Fact]
    public async Task Unknown_kinds_and_documents_without_kind_are_never_passed()
    {
        var problems = await ManifestSchema.ValidateAsync(
        [
            JsonNode.Parse("""{ "apiVersion": "example.com/v1", "kind": "Widget", "metadata": { "name": "w" } }""")!.AsObject(),
            JsonNode.Parse("""{ "apiVersion": "apps/v1", "kind": "DeploymentSpec", "metadata": { "name": "d" } }""")!.AsObject(),
            JsonNode.Parse("""{ "apiVersion": "v1", "metadata": { "name": "nokind" } }""")!.AsObject(),
        ]);

        Assert.Equal(
        [
            "#0 Widget/w: no schema for example.com/v1/Widget",
            "#1 DeploymentSpec/d: no schema for apps/v1/DeploymentSpec",
            "#2 /nokind: missing kind",
        ], problems);
    }

    [Fact]
    public async Task Custom_resources_are_checked_against_their_crd_schemas()
    {
        static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
        var valid = await ManifestSchema.ValidateAsync(
        [
            Parse("""{ "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": { "name": "m" }, "spec": { "selector": {}, "endpoints": [{ "port": "http" }] } }"""),
            Parse("""{ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": { "name": "r" }, "spec": { "parentRefs": [{ "name": "gw" }], "rules": [{ "backendRefs": [{ "name": "svc", "port": 80 }] }] } }"""),
            Parse("""{ "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": { "name": "e" }, "spec": { "secretStoreRef": { "name": "store", "kind": "ClusterSecretStore" } } }"""),
        ]);
        var invalid = await ManifestSchema.ValidateAsync(
        [
            Parse("""{ "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": { "name": "m" }, "spec": { "selector": {}, "endpoints": "http" } }"""),
            Parse("""{ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": { "name": "r" }, "spec": { "rules": [{ "backendRefs": [{ "name": "svc", "port": "80" }] }] } }"""),
            Parse("""{ "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": { "name": "e" }, "spec": { "refreshInterval": 5 } }"""),
        ]);

        Assert.Empty(valid);
        Assert.Equal(
        [
            "#0 ServiceMonitor/m: /spec/endpoints: must be array",
            "#1 HTTPRoute/r: /spec/rules/0/backendRefs/0/port: must be integer",
            "#2 ExternalSecret/e: /spec/refreshInterval: must be string",
        ], invalid);
    }
}
