using System.Text.Json.Nodes;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Deploy;

/// <summary>
/// The hardened deployment (examples/hardened.yaml and its plain-manifest twin deploy/kubernetes) and the GKE guide
/// example (examples/gke.yaml) against the README's mapping of Portkey's GKE guide values.
/// </summary>
public sealed class HardenedDeploymentTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("switchyard-chart-test-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task The_namespace_is_labelled_for_the_restricted_standard()
    {
        var render = await SwitchyardChart.RenderScenarioAsync("hardened");
        var labels = render.Single("Namespace")["metadata"]!["labels"]!;
        Assert.Equal("switchyard", (string?)render.Single("Namespace")["metadata"]!["name"]);
        foreach (var mode in new[] { "enforce", "audit", "warn" })
        {
            Assert.Equal("restricted", (string?)labels[$"pod-security.kubernetes.io/{mode}"]);
            Assert.Equal("latest", (string?)labels[$"pod-security.kubernetes.io/{mode}-version"]);
        }
    }

    [Fact]
    public async Task Ingress_comes_only_from_the_gateway_and_monitoring_namespaces_and_egress_is_dns_and_web()
    {
        var render = await SwitchyardChart.RenderScenarioAsync("hardened");
        var policy = render.Single("NetworkPolicy")["spec"]!;
        Assert.Equal(["Egress", "Ingress"], policy["policyTypes"]!.AsArray().Select(t => (string)t!).Order());
        Assert.Equal("gateway", (string?)policy["podSelector"]!["matchLabels"]!["app.kubernetes.io/component"]);

        var ingress = Assert.Single(policy["ingress"]!.AsArray())!;
        Assert.Equal(["gateway", "monitoring"], ingress["from"]!.AsArray()
            .Select(peer => (string)peer!["namespaceSelector"]!["matchLabels"]!["kubernetes.io/metadata.name"]!));
        Assert.Equal([8787], ingress["ports"]!.AsArray().Select(p => (int)p!["port"]!));

        var egress = policy["egress"]!.AsArray();
        Assert.Equal(2, egress.Count);
        Assert.Equal(["TCP/53", "UDP/53"], egress[0]!["ports"]!.AsArray().Select(p => $"{(string)p!["protocol"]!}/{(int)p["port"]!}").Order());
        Assert.Equal(["TCP/443", "TCP/80"], egress[1]!["ports"]!.AsArray().Select(p => $"{(string)p!["protocol"]!}/{(int)p["port"]!}").Order());

        // extraEgress is appended; the metrics port joins the ingress ports.
        var extra = await SwitchyardChart.RenderOkAsync([SwitchyardChart.Example("hardened")], new Dictionary<string, string>
        {
            ["networkPolicy.extraEgress[0].ports[0].port"] = "11434",
            ["environment.data.METRICS_PORT"] = "9102",
        });
        var extraPolicy = extra.Single("NetworkPolicy")["spec"]!;
        Assert.Equal(11434, (int)extraPolicy["egress"]!.AsArray().Last()!["ports"]![0]!["port"]!);
        Assert.Equal([8787, 9102], extraPolicy["ingress"]![0]!["ports"]!.AsArray().Select(p => (int)p!["port"]!));
    }

    [Fact]
    public async Task The_route_uses_the_shared_gateways_external_listener_with_security_headers()
    {
        var render = await SwitchyardChart.RenderScenarioAsync("hardened");
        var route = render.Single("HTTPRoute")["spec"]!;
        var parent = Assert.Single(route["parentRefs"]!.AsArray())!;
        Assert.Equal("external", (string?)parent["sectionName"]);
        Assert.Equal("gateway", (string?)parent["namespace"]);
        Assert.Equal(["portkey.example.com"], route["hostnames"]!.AsArray().Select(h => (string)h!));
        Assert.Equal("switchyard", (string?)route["rules"]![0]!["backendRefs"]![0]!["name"]);
        var headers = ChartTests.SecurityHeaders(route);
        Assert.Equal(
            ["Content-Security-Policy", "Permissions-Policy", "Referrer-Policy", "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"],
            headers.Keys.Order());
    }

    [Fact]
    public async Task Prometheus_scrapes_metrics_every_30_seconds()
    {
        var render = await SwitchyardChart.RenderScenarioAsync("hardened");
        var monitor = render.Single("ServiceMonitor");
        Assert.Equal("monitoring.coreos.com/v1", (string?)monitor["apiVersion"]);
        var endpoint = Assert.Single(monitor["spec"]!["endpoints"]!.AsArray())!;
        Assert.Equal("30s", (string?)endpoint["interval"]);
        Assert.Equal("10s", (string?)endpoint["scrapeTimeout"]);
        Assert.Equal("/metrics", (string?)endpoint["path"]);
        Assert.Equal("http", (string?)endpoint["scheme"]);
        Assert.Equal("http", (string?)endpoint["port"]);
        Assert.Equal("kube-prometheus-stack", (string?)monitor["metadata"]!["labels"]!["release"]);
        // It selects the gateway Service, which has the port it names.
        var service = render.Single("Service", "switchyard");
        foreach (var (key, value) in monitor["spec"]!["selector"]!["matchLabels"]!.AsObject())
        {
            Assert.Equal((string?)value, (string?)service["metadata"]!["labels"]![key]);
        }
        Assert.Contains("http", SwitchyardChart.ServicePorts(service).Keys);
    }

    [Fact]
    public async Task Provider_keys_come_from_bitwarden_through_an_external_secret_loaded_with_envFrom()
    {
        var render = await SwitchyardChart.RenderScenarioAsync("hardened");
        var externalSecret = render.Single("ExternalSecret");
        Assert.Equal("external-secrets.io/v1", (string?)externalSecret["apiVersion"]);
        var spec = externalSecret["spec"]!;
        Assert.Equal("ClusterSecretStore", (string?)spec["secretStoreRef"]!["kind"]);
        Assert.Equal("bitwarden", (string?)spec["secretStoreRef"]!["name"]);
        Assert.Equal(["ANTHROPIC_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_RESOURCE_NAME", "CEREBRAS_API_KEY", "OPENAI_API_KEY"],
            spec["data"]!.AsArray().Select(d => (string)d!["secretKey"]!).Order());
        Assert.All(spec["data"]!.AsArray(), d => Assert.False(string.IsNullOrEmpty((string?)d!["remoteRef"]!["key"])));

        var container = SwitchyardChart.Container(SwitchyardChart.Gateway(render));
        var target = (string)spec["target"]!["name"]!;
        Assert.Contains(container["envFrom"]!.AsArray(), source => (string?)source!["secretRef"]?["name"] == target);
        // No provider key is written into the chart's own objects.
        Assert.DoesNotContain("API_KEY", render.Single("ConfigMap", "switchyard-env").ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_routing_configs_are_the_repositorys_configs_mounted_at_app_configs()
    {
        var render = await SwitchyardChart.RenderScenarioAsync("hardened");
        var data = render.Single("ConfigMap", "switchyard-configs")["data"]!.AsObject();
        var repo = Directory.GetFiles(Path.Combine(RepoPaths.Root, "configs")).Where(f => !f.EndsWith("README.md", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetFileName(f), f => f);
        Assert.Equal(repo.Keys.Order(), data.Select(d => d.Key).Order());
        foreach (var (name, path) in repo)
        {
            var rendered = (string)data[name]!;
            if (name.EndsWith(".json", StringComparison.Ordinal))
            {
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(await File.ReadAllTextAsync(path)), JsonNode.Parse(rendered)), $"{name} differs from configs/{name}");
            }
            else
            {
                // The ConfigMap holds the text without its final newline (a "|-" block).
                Assert.Equal((await File.ReadAllTextAsync(path)).TrimEnd('\n'), rendered);
            }
        }
        var gateway = SwitchyardChart.Gateway(render);
        var mount = SwitchyardChart.Mount(SwitchyardChart.Container(gateway), "configs")!;
        Assert.Equal("/app/configs", (string?)mount["mountPath"]);
        Assert.Null(mount["subPath"]);
        Assert.Equal(2, (int)gateway["spec"]!["replicas"]!);
        Assert.Single(render.OfKind("PodDisruptionBudget"));
    }

    [Fact]
    public async Task The_kustomization_equals_the_chart_rendered_with_the_hardened_values()
    {
        var rendered = await SwitchyardChart.RenderScenarioAsync("hardened");
        var built = await Kustomize.BuildAsync("deploy/kubernetes");

        var expected = rendered.Documents.Select(SwitchyardChart.Canonical).Order(StringComparer.Ordinal).ToList();
        var actual = built.Select(SwitchyardChart.Canonical).Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.SequenceEqual(actual),
            "deploy/kubernetes differs from the chart rendered with examples/hardened.yaml: run deploy/kubernetes/regenerate.sh\n"
            + "only in the chart: " + Brief(expected.Except(actual)) + "\nonly in deploy/kubernetes: " + Brief(actual.Except(expected)));

        var ns = Assert.Single(built, d => (string?)d["kind"] == "Namespace");
        Assert.Equal("restricted", (string?)ns["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]);
        Assert.All(built.Where(d => (string?)d["kind"] == "Deployment"), d => Assert.Empty(PodSecurity.RestrictedViolations(d)));
    }

    private static string Brief(IEnumerable<string> documents) =>
        string.Join("\n", documents.Select(d => d.Length > 1500 ? d[..1500] + "…" : d));

    /// <summary>
    /// Every key of examples/gke.yaml (the values of Portkey's GKE guide) is in the README's mapping table, and does
    /// what the table says: changing it changes the rendered manifests, unless its row says "No effect:", in which
    /// case the manifests stay exactly the same.
    /// </summary>
    [Fact]
    public async Task Every_GKE_guide_key_is_mapped_in_the_README_and_has_the_effect_it_claims()
    {
        const string heading = "Portkey GKE guide values";
        var readme = await File.ReadAllTextAsync(SwitchyardChart.FullPath($"{SwitchyardChart.Dir}/README.md"));
        var mapped = SwitchyardChart.TableKeys(readme, heading);
        var gke = await SwitchyardChart.ReadYamlAsync(SwitchyardChart.FullPath(SwitchyardChart.Example("gke")));
        var baseline = await SwitchyardChart.RenderScenarioAsync("gke");

        var problems = new List<string>();
        var leaves = SwitchyardChart.Leaves(gke).ToList();
        Assert.True(leaves.Count > 30, "gke.yaml should hold the whole guide");
        foreach (var (path, segments) in leaves)
        {
            var row = SwitchyardChart.SelfAndAncestors(path).FirstOrDefault(mapped.Contains);
            if (row is null)
            {
                problems.Add($"{path}: not in the README's '{heading}' table");
                continue;
            }
            var effect = SwitchyardChart.RowEffect(readme, heading, row)!;
            var changed = gke.DeepClone().AsObject();
            Mutate(changed, segments);
            var file = Path.Combine(_temp, Guid.NewGuid().ToString("N") + ".yaml");
            await File.WriteAllTextAsync(file, changed.ToJsonString()); // JSON is YAML
            var render = await SwitchyardChart.RenderAsync([file]);
            if (render.ExitCode != 0)
            {
                problems.Add($"{path}: changing it broke the render: {render.Stderr}");
                continue;
            }
            var same = render.Yaml == baseline.Yaml;
            if (effect.StartsWith("No effect:", StringComparison.Ordinal) && !same)
            {
                problems.Add($"{path}: the README says it has no effect, but changing it changes the manifests");
            }
            else if (!effect.StartsWith("No effect:", StringComparison.Ordinal) && same)
            {
                problems.Add($"{path}: the README gives it an effect ({effect}), but changing it changes nothing");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Changes one leaf to another value the schema accepts.</summary>
    private static void Mutate(JsonObject root, string[] segments)
    {
        JsonNode parent = root;
        for (var i = 0; i < segments.Length - 1; i++)
        {
            parent = Step(parent, segments[i])!;
        }
        var last = segments[^1];
        var value = Step(parent, last);
        JsonNode? replacement = value switch
        {
            JsonValue v when v.TryGetValue<bool>(out var b) => !b,
            JsonValue v when v.TryGetValue<int>(out var n) => n + 1,
            JsonValue v when v.TryGetValue<string>(out var s) => last switch
            {
                "type" => s == "ClusterIP" ? "LoadBalancer" : "ClusterIP",
                "pullPolicy" => s == "Always" ? "IfNotPresent" : "Always",
                "SERVER_MODE" => s == "all" ? "" : "all",
                "CACHE_STORE" => s == "redis" ? "memory" : "redis",
                "LOG_STORE" => s == "gcs_assume" ? "gcs" : "gcs_assume",
                _ when s.Length > 0 && s.All(char.IsAsciiDigit) => (int.Parse(s) + 1).ToString(),
                _ => s + "x",
            },
            JsonArray { Count: 0 } => new JsonArray("x"),
            JsonObject { Count: 0 } => new JsonObject { ["x"] = "x" },
            _ => throw new InvalidOperationException($"cannot change {string.Join('.', segments)} ({value?.ToJsonString()})"),
        };
        if (parent is JsonArray array)
        {
            array[Index(last)] = replacement;
        }
        else
        {
            parent.AsObject()[last] = replacement;
        }
    }

    private static JsonNode? Step(JsonNode node, string segment) =>
        segment.StartsWith('[') ? node.AsArray()[Index(segment)] : node.AsObject()[segment];

    private static int Index(string segment) => int.Parse(segment.Trim('[', ']'));
}
