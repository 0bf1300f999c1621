using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Deploy;

/// <summary>Renders of deploy/helm/switchyard and the objects they must hold.</summary>
internal static class SwitchyardChart
{
    public const string Dir = "deploy/helm/switchyard";

    public static string Example(string name) => $"{Dir}/examples/{name}.yaml";

    public static string FullPath(string relative) => Path.Combine(RepoPaths.Root, relative);

    /// <summary>The scenarios every render-wide check runs on: the defaults and the three example files.</summary>
    public static readonly IReadOnlyDictionary<string, (string[] Files, Dictionary<string, string> Sets)> Scenarios =
        new Dictionary<string, (string[], Dictionary<string, string>)>
        {
            ["defaults"] = ([], []),
            ["gke"] = ([Example("gke")], []),
            ["hardened"] = ([Example("hardened")], []),
            ["all-hostbased"] = ([Example("all-hostbased")], []),
            // SERVER_MODE=all with host-based ingress given on the command line rather than by the example file.
            ["all-hostbased-sets"] = ([], new()
            {
                ["environment.data.SERVER_MODE"] = "all",
                ["ingress.enabled"] = "true",
                ["ingress.hostBased"] = "true",
                ["ingress.hostname"] = "gw.example.org",
            }),
        };

    public static async Task<ChartRender> RenderScenarioAsync(string scenario)
    {
        var (files, sets) = Scenarios[scenario];
        return await RenderOkAsync(files, sets);
    }

    public static Task<ChartRender> RenderAsync(IReadOnlyList<string>? files = null, IReadOnlyDictionary<string, string>? sets = null)
        => HelmRenderer.RenderAsync(Dir, files, sets);

    public static async Task<ChartRender> RenderOkAsync(IReadOnlyList<string>? files = null, IReadOnlyDictionary<string, string>? sets = null)
    {
        var render = await RenderAsync(files, sets);
        Assert.True(render.ExitCode == 0, "the chart did not render:\n" + render.Stderr);
        Assert.NotEmpty(render.Documents);
        return render;
    }

    public static Task<ChartRender> RenderOkAsync(params (string Key, string Value)[] sets)
        => RenderOkAsync(null, sets.ToDictionary(s => s.Key, s => s.Value));

    public static string? Component(JsonObject doc) => (string?)doc["metadata"]?["labels"]?["app.kubernetes.io/component"];

    public static JsonObject Gateway(ChartRender render) =>
        Assert.Single(render.OfKind("Deployment"), d => Component(d) == "gateway");

    public static JsonObject? Redis(ChartRender render) =>
        render.OfKind("Deployment").SingleOrDefault(d => Component(d) == "redis");

    public static JsonObject PodSpec(JsonObject workload) => workload["spec"]!["template"]!["spec"]!.AsObject();

    public static JsonObject Container(JsonObject workload, string name = "gateway") =>
        Assert.Single(PodSpec(workload)["containers"]!.AsArray(), c => (string?)c!["name"] == name)!.AsObject();

    public static JsonObject? Env(JsonObject container, string name) =>
        container["env"]?.AsArray().SingleOrDefault(e => (string?)e!["name"] == name)?.AsObject();

    public static IReadOnlyList<string> EnvNames(JsonObject container) =>
        container["env"]?.AsArray().Select(e => (string)e!["name"]!).ToList() ?? [];

    public static JsonObject? Volume(JsonObject workload, string name) =>
        PodSpec(workload)["volumes"]?.AsArray().SingleOrDefault(v => (string?)v!["name"] == name)?.AsObject();

    public static JsonObject? Mount(JsonObject container, string name) =>
        container["volumeMounts"]?.AsArray().SingleOrDefault(v => (string?)v!["name"] == name)?.AsObject();

    public static Dictionary<string, int> Ports(JsonObject container) =>
        container["ports"]?.AsArray().ToDictionary(p => (string)p!["name"]!, p => (int)p!["containerPort"]!) ?? [];

    public static Dictionary<string, int> ServicePorts(JsonObject service) =>
        service["spec"]!["ports"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => (int)p!["port"]!);

    public static string PodAnnotation(JsonObject workload, string key) =>
        (string?)workload["spec"]!["template"]!["metadata"]!["annotations"]?[key] ?? "";

    public static bool SameJson(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);

    /// <summary>A document as a canonical string (object keys sorted), for order-insensitive comparisons.</summary>
    public static string Canonical(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node);
        return sb.ToString();

        void Write(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    sb.Append('{');
                    foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        sb.Append(JsonSerializer.Serialize(k)).Append(':');
                        Write(v);
                        sb.Append(',');
                    }
                    sb.Append('}');
                    break;
                case JsonArray a:
                    sb.Append('[');
                    foreach (var v in a)
                    {
                        Write(v);
                        sb.Append(',');
                    }
                    sb.Append(']');
                    break;
                case null:
                    sb.Append("null");
                    break;
                default:
                    sb.Append(n.ToJsonString());
                    break;
            }
        }
    }

    /// <summary>YAML (one document) parsed as Helm parses values files, through the renderer's YAML reader.</summary>
    public static async Task<JsonObject> ReadYamlAsync(string path)
    {
        var parsed = await DeployTools.RunAsync(await DeployTools.RendererAsync(), ["--yaml-to-json", "-"], stdin: await File.ReadAllTextAsync(path));
        Assert.True(parsed.ExitCode == 0, parsed.Stderr);
        return Assert.Single(DeployTools.ParseDocuments(parsed.Stdout));
    }

    /// <summary>The backticked names in the first column of the Markdown tables of one README section (## heading).</summary>
    public static HashSet<string> TableKeys(string readme, string heading)
    {
        var start = readme.IndexOf("\n## " + heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README has no section '## {heading}'");
        var end = readme.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in section.Split('\n'))
        {
            var m = Regex.Match(line, @"^\|([^|]*)\|");
            if (!m.Success)
            {
                continue;
            }
            foreach (Match key in Regex.Matches(m.Groups[1].Value, "`([^`]+)`"))
            {
                keys.Add(key.Groups[1].Value);
            }
        }
        return keys;
    }

    /// <summary>The second column of the README table row whose first column names <paramref name="key"/>.</summary>
    public static string? RowEffect(string readme, string heading, string key)
    {
        var start = readme.IndexOf("\n## " + heading, StringComparison.Ordinal);
        var end = readme.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        foreach (var line in section.Split('\n'))
        {
            var m = Regex.Match(line, @"^\|([^|]*)\|([^|]*)\|");
            if (m.Success && Regex.Matches(m.Groups[1].Value, "`([^`]+)`").Any(k => k.Groups[1].Value == key))
            {
                return m.Groups[2].Value.Trim();
            }
        }
        return null;
    }

    /// <summary>
    /// The leaf paths of a values tree: "a.b.c" for map keys, "a[].b" inside lists of maps; a map or list that is empty,
    /// or a list of scalars, is itself a leaf.
    /// </summary>
    public static IEnumerable<(string Path, string[] Segments)> Leaves(JsonNode? node, string path = "", string[]? segments = null)
    {
        segments ??= [];
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                foreach (var (k, v) in o)
                {
                    foreach (var leaf in Leaves(v, path.Length == 0 ? k : path + "." + k, [.. segments, k]))
                    {
                        yield return leaf;
                    }
                }
                break;
            case JsonArray a when a.Count > 0 && a.All(i => i is JsonObject):
                for (var i = 0; i < a.Count; i++)
                {
                    foreach (var leaf in Leaves(a[i], path + "[]", [.. segments, "[" + i + "]"]))
                    {
                        yield return leaf;
                    }
                }
                break;
            default:
                yield return (path, segments);
                break;
        }
    }

    /// <summary>The path itself, then its ancestors from the closest ("a[].b.c" → "a[].b.c", "a[].b", "a[]", "a").</summary>
    public static IEnumerable<string> SelfAndAncestors(string path)
    {
        var p = path;
        while (p.Length > 0)
        {
            yield return p;
            if (p.EndsWith("[]", StringComparison.Ordinal))
            {
                p = p[..^2];
                continue;
            }
            var dot = p.LastIndexOf('.');
            p = dot < 0 ? "" : p[..dot];
        }
    }
}

public sealed class ChartTests
{
    private static readonly string[] Workloads = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"];

    public static TheoryData<string> Scenarios() => new(SwitchyardChart.Scenarios.Keys);

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Every_scenario_renders_valid_manifests_that_pass_the_restricted_pod_security_standard(string scenario)
    {
        var render = await SwitchyardChart.RenderScenarioAsync(scenario);

        Assert.Empty(await ManifestSchema.ValidateAsync(render.Documents));
        var workloads = render.Documents.Where(d => Workloads.Contains((string?)d["kind"])).ToList();
        Assert.NotEmpty(workloads);
        Assert.All(workloads, w => Assert.Empty(PodSecurity.RestrictedViolations(w)));

        foreach (var doc in render.Documents)
        {
            var kind = (string)doc["kind"]!;
            Assert.False(string.IsNullOrEmpty((string?)doc["metadata"]?["name"]), $"{kind} without a name");
            if (kind != "Namespace")
            {
                Assert.Equal("switchyard", (string?)doc["metadata"]!["namespace"]);
            }
        }
        // Every selector names its component, and no two components share a selector.
        var selectors = render.OfKind("Deployment").Select(d => d["spec"]!["selector"]!["matchLabels"]!.AsObject()).ToList();
        Assert.All(selectors, s => Assert.False(string.IsNullOrEmpty((string?)s["app.kubernetes.io/component"])));
        Assert.Equal(selectors.Count, selectors.Select(s => (string?)s["app.kubernetes.io/component"]).Distinct().Count());
        foreach (var service in render.OfKind("Service"))
        {
            Assert.False(string.IsNullOrEmpty((string?)service["spec"]!["selector"]!["app.kubernetes.io/component"]));
        }
        // Only the Ingress and Service objects may carry the GKE guide's ingress/service annotations.
        foreach (var doc in render.Documents.Where(d => (string?)d["kind"] is not ("Service" or "Ingress")))
        {
            var annotations = doc["metadata"]?["annotations"]?.AsObject().Select(a => a.Key) ?? [];
            Assert.DoesNotContain(annotations, a => a.StartsWith("cloud.google.com/", StringComparison.Ordinal) || a.StartsWith("kubernetes.io/ingress", StringComparison.Ordinal));
        }
        // The data service role does not exist yet: whatever the values say, nothing is rendered for it.
        Assert.DoesNotContain(render.Documents, d => ((string?)d["metadata"]?["name"] ?? "").Contains("dataservice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Defaults_run_hardened_with_the_probes_resources_and_scratch_volumes_of_the_brief()
    {
        var render = await SwitchyardChart.RenderOkAsync();
        var gateway = SwitchyardChart.Gateway(render);
        var pod = SwitchyardChart.PodSpec(gateway);
        var container = SwitchyardChart.Container(gateway);

        Assert.Equal(1, (int)gateway["spec"]!["replicas"]!);
        Assert.Equal(45, (int)pod["terminationGracePeriodSeconds"]!);
        Assert.False((bool)pod["automountServiceAccountToken"]!);
        Assert.Equal("switchyard", (string?)pod["serviceAccountName"]);
        Assert.Null(pod["imagePullSecrets"]);
        Assert.Null(pod["topologySpreadConstraints"]);
        Assert.Equal("ghcr.io/switchyard/gateway:0.12.0", (string?)container["image"]);

        var podSc = pod["securityContext"]!;
        Assert.True((bool)podSc["runAsNonRoot"]!);
        Assert.Equal(1000, (int)podSc["runAsUser"]!);
        Assert.Equal(1000, (int)podSc["runAsGroup"]!);
        Assert.Equal(1000, (int)podSc["fsGroup"]!);
        Assert.Equal("RuntimeDefault", (string?)podSc["seccompProfile"]!["type"]);
        var sc = container["securityContext"]!;
        Assert.True((bool)sc["readOnlyRootFilesystem"]!);
        Assert.False((bool)sc["allowPrivilegeEscalation"]!);
        Assert.True((bool)sc["runAsNonRoot"]!);
        Assert.Equal(["ALL"], sc["capabilities"]!["drop"]!.AsArray().Select(c => (string)c!));
        Assert.Equal("RuntimeDefault", (string?)sc["seccompProfile"]!["type"]);

        Assert.Equal("100m", (string?)container["resources"]!["requests"]!["cpu"]);
        Assert.Equal("256Mi", (string?)container["resources"]!["requests"]!["memory"]);
        Assert.Equal("500m", (string?)container["resources"]!["limits"]!["cpu"]);
        Assert.Equal("512Mi", (string?)container["resources"]!["limits"]!["memory"]);

        AssertProbe(container["startupProbe"], "/v1/health", 8787, period: 5, failures: 10);
        AssertProbe(container["readinessProbe"], "/v1/health/ready", 8787, period: 10, failures: 3);
        AssertProbe(container["livenessProbe"], "/v1/health", 8787, period: 30, failures: 3);
        // The startup probe allows up to 50 s.
        Assert.Equal(50, (int)container["startupProbe"]!["periodSeconds"]! * (int)container["startupProbe"]!["failureThreshold"]!);

        foreach (var (name, path, size) in new[] { ("tmp", "/tmp", "2Gi"), ("var-tmp", "/var/tmp", "64Mi") })
        {
            Assert.Equal(size, (string?)SwitchyardChart.Volume(gateway, name)!["emptyDir"]!["sizeLimit"]);
            Assert.Equal(path, (string?)SwitchyardChart.Mount(container, name)!["mountPath"]);
        }
        // No configs given: nothing mounted over the image's own /app/configs.
        Assert.Null(SwitchyardChart.Volume(gateway, "configs"));
        Assert.DoesNotContain(render.OfKind("ConfigMap"), c => ((string)c["metadata"]!["name"]!).EndsWith("-configs", StringComparison.Ordinal));

        Assert.Equal(new Dictionary<string, int> { ["http"] = 8787 }, SwitchyardChart.Ports(container));
        var service = render.Single("Service", "switchyard");
        Assert.Equal("ClusterIP", (string?)service["spec"]!["type"]);
        Assert.Equal(new Dictionary<string, int> { ["http"] = 8787 }, SwitchyardChart.ServicePorts(service));

        // The drain and grace seconds come from the chart-owned Secret.
        var env = render.Single("Secret", "switchyard-env");
        Assert.Equal("5", Encoding.UTF8.GetString(Convert.FromBase64String((string)env["data"]!["SHUTDOWN_DRAIN_SECONDS"]!)));
        Assert.Equal("30", Encoding.UTF8.GetString(Convert.FromBase64String((string)env["data"]!["SHUTDOWN_GRACE_SECONDS"]!)));
        Assert.Equal("switchyard-env", (string?)SwitchyardChart.Env(container, "SHUTDOWN_DRAIN_SECONDS")!["valueFrom"]!["secretKeyRef"]!["name"]);
        Assert.Equal("SHUTDOWN_DRAIN_SECONDS", (string?)SwitchyardChart.Env(container, "SHUTDOWN_DRAIN_SECONDS")!["valueFrom"]!["secretKeyRef"]!["key"]);

        foreach (var absent in new[] { "Ingress", "HTTPRoute", "NetworkPolicy", "ServiceMonitor", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ExternalSecret", "Namespace" })
        {
            Assert.Empty(render.OfKind(absent));
        }
        Assert.Null(SwitchyardChart.Redis(render));
        Assert.Equal(new[] { "Secret", "Service", "Deployment", "ServiceAccount" }.Order(), render.Documents.Select(d => (string)d["kind"]!).Order());
    }

    private static void AssertProbe(JsonNode? probe, string path, int port, int period, int failures)
    {
        Assert.NotNull(probe);
        Assert.Equal(path, (string?)probe["httpGet"]!["path"]);
        Assert.Equal(port, (int)probe["httpGet"]!["port"]!);
        Assert.Equal(period, (int)probe["periodSeconds"]!);
        Assert.Equal(failures, (int)probe["failureThreshold"]!);
    }

    [Theory]
    [InlineData("", 8787, new[] { "http" })]
    [InlineData("all", 8787, new[] { "http", "mcp" })]
    [InlineData("mcp", 8788, new[] { "mcp" })]
    public async Task Server_mode_picks_the_ports_and_the_probe_port(string mode, int probePort, string[] ports)
    {
        var render = await SwitchyardChart.RenderOkAsync(("environment.data.SERVER_MODE", mode));
        var container = SwitchyardChart.Container(SwitchyardChart.Gateway(render));

        Assert.Equal(ports.Order(), SwitchyardChart.Ports(container).Keys.Order());
        Assert.Equal(ports.Order(), SwitchyardChart.ServicePorts(render.Single("Service", "switchyard")).Keys.Order());
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            Assert.Equal(probePort, (int)container[probe]!["httpGet"]!["port"]!);
        }
        if (ports.Contains("mcp"))
        {
            Assert.Equal(8788, SwitchyardChart.Ports(container)["mcp"]);
        }
    }

    [Fact]
    public async Task Ports_follow_PORT_MCP_PORT_and_METRICS_PORT_and_probes_stay_overridable()
    {
        var render = await SwitchyardChart.RenderOkAsync(
            ("environment.data.SERVER_MODE", "all"), ("environment.data.PORT", "9000"), ("environment.data.MCP_PORT", "9001"),
            ("environment.data.METRICS_PORT", "9102"), ("serviceMonitor.enabled", "true"), ("livenessProbe.periodSeconds", "60"),
            ("readinessProbe.httpGet.port", "9999"), ("startupProbe", "null"));
        var container = SwitchyardChart.Container(SwitchyardChart.Gateway(render));

        Assert.Equal(new Dictionary<string, int> { ["http"] = 9000, ["mcp"] = 9001, ["metrics"] = 9102 }, SwitchyardChart.Ports(container));
        Assert.Equal(new Dictionary<string, int> { ["http"] = 8787, ["mcp"] = 9001, ["metrics"] = 9102 },
            SwitchyardChart.ServicePorts(render.Single("Service", "switchyard")));
        Assert.Equal(60, (int)container["livenessProbe"]!["periodSeconds"]!);
        Assert.Equal("/v1/health", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal(9000, (int)container["livenessProbe"]!["httpGet"]!["port"]!);
        Assert.Equal(9999, (int)container["readinessProbe"]!["httpGet"]!["port"]!);
        Assert.Null(container["startupProbe"]);
        Assert.Equal("metrics", (string?)render.Single("ServiceMonitor")["spec"]!["endpoints"]![0]!["port"]);
    }

    [Fact]
    public async Task The_environment_checksum_rolls_pods_when_environment_data_changes_and_only_then()
    {
        async Task<string> Checksum(params (string, string)[] sets) =>
            SwitchyardChart.PodAnnotation(SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(sets)), "checksum/environment");

        var baseline = await Checksum();
        Assert.Matches("^[0-9a-f]{64}$", baseline);
        Assert.Equal(baseline, await Checksum(("replicaCount", "3"), ("podLabels.team", "ai")));
        Assert.NotEqual(baseline, await Checksum(("environment.data.LOG_LEVEL", "debug")));
        Assert.NotEqual(baseline, await Checksum(("environment.data.SHUTDOWN_DRAIN_SECONDS", "7")));
        Assert.NotEqual(baseline, await Checksum(("environment.secret", "false")));
        // The configs do not roll the pods unless asked: the gateway hot-reloads them.
        Assert.Equal(baseline, await Checksum(("configs.files.a\\.json.retry.attempts", "2")));
    }

    [Fact]
    public async Task Configs_are_mounted_as_a_directory_at_app_configs_and_roll_pods_only_when_asked()
    {
        var files = ("configs.files.fast\\.json.retry.attempts", "2");
        var render = await SwitchyardChart.RenderOkAsync(files);
        var gateway = SwitchyardChart.Gateway(render);
        var container = SwitchyardChart.Container(gateway);

        var configMap = render.Single("ConfigMap", "switchyard-configs");
        var json = JsonNode.Parse((string)configMap["data"]!["fast.json"]!)!;
        Assert.Equal(2, (int)json["retry"]!["attempts"]!);
        Assert.Equal("switchyard-configs", (string?)SwitchyardChart.Volume(gateway, "configs")!["configMap"]!["name"]);
        var mount = SwitchyardChart.Mount(container, "configs")!;
        Assert.Equal("/app/configs", (string?)mount["mountPath"]);
        Assert.Null(mount["subPath"]);
        Assert.True((bool)mount["readOnly"]!);
        Assert.Equal("/app/configs", (string?)SwitchyardChart.Env(container, "CONFIG_DIR")!["value"]);
        Assert.Equal("", SwitchyardChart.PodAnnotation(gateway, "checksum/configs"));

        var rolled = SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(files, ("configs.rollOnChange", "true")));
        var rolledOther = SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(("configs.files.fast\\.json.retry.attempts", "3"), ("configs.rollOnChange", "true")));
        Assert.Matches("^[0-9a-f]{64}$", SwitchyardChart.PodAnnotation(rolled, "checksum/configs"));
        Assert.NotEqual(SwitchyardChart.PodAnnotation(rolled, "checksum/configs"), SwitchyardChart.PodAnnotation(rolledOther, "checksum/configs"));

        var existing = await SwitchyardChart.RenderOkAsync(("configs.existingConfigMap", "my-configs"), ("configs.mountPath", "/etc/switchyard/configs"));
        var existingGateway = SwitchyardChart.Gateway(existing);
        Assert.Equal("my-configs", (string?)SwitchyardChart.Volume(existingGateway, "configs")!["configMap"]!["name"]);
        Assert.Equal("/etc/switchyard/configs", (string?)SwitchyardChart.Mount(SwitchyardChart.Container(existingGateway), "configs")!["mountPath"]);
        Assert.Equal("/etc/switchyard/configs", (string?)SwitchyardChart.Env(SwitchyardChart.Container(existingGateway), "CONFIG_DIR")!["value"]);
        Assert.DoesNotContain(existing.OfKind("ConfigMap"), c => ((string)c["metadata"]!["name"]!).EndsWith("-configs", StringComparison.Ordinal));

        var badName = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["configs.files.notes\\.txt"] = "x" });
        Assert.NotEqual(0, badName.ExitCode);
    }

    [Fact]
    public async Task Built_in_redis_renders_only_with_CACHE_STORE_redis_as_a_hardened_ClusterIP_service()
    {
        Assert.Null(SwitchyardChart.Redis(await SwitchyardChart.RenderOkAsync(("environment.data.CACHE_STORE", "memory"))));
        Assert.Null(SwitchyardChart.Redis(await SwitchyardChart.RenderOkAsync(("environment.data.CACHE_STORE", "memory-store"), ("environment.data.REDIS_URL", "redis://10.0.0.3:6379"))));
        Assert.Null(SwitchyardChart.Redis(await SwitchyardChart.RenderOkAsync(("environment.data.CACHE_STORE", "redis"), ("redis.enabled", "false"), ("environment.data.REDIS_URL", "redis://elsewhere:6379"))));

        var render = await SwitchyardChart.RenderOkAsync(("environment.data.CACHE_STORE", "redis"), ("networkPolicy.enabled", "true"));
        var redis = SwitchyardChart.Redis(render)!;
        Assert.Equal("redis", (string?)redis["metadata"]!["name"]);
        Assert.Empty(PodSecurity.RestrictedViolations(redis));
        var pod = SwitchyardChart.PodSpec(redis);
        var container = SwitchyardChart.Container(redis, "redis");
        Assert.Contains((int)pod["securityContext"]!["runAsUser"]!, new[] { 999, 1000 });
        Assert.True((bool)container["securityContext"]!["readOnlyRootFilesystem"]!);
        Assert.False((bool)pod["automountServiceAccountToken"]!);
        Assert.NotNull(SwitchyardChart.Volume(redis, "data")!["emptyDir"]);
        Assert.Equal("/data", (string?)SwitchyardChart.Mount(container, "data")!["mountPath"]);
        Assert.Equal(6379, (int)container["readinessProbe"]!["tcpSocket"]!["port"]!);
        Assert.Equal(6379, (int)container["livenessProbe"]!["tcpSocket"]!["port"]!);

        var service = render.Single("Service", "redis");
        Assert.Equal("ClusterIP", (string?)service["spec"]!["type"]);
        Assert.Equal("redis", (string?)service["spec"]!["selector"]!["app.kubernetes.io/component"]);
        // The gateway Service must not select the Redis pod, nor the Redis Service the gateway pod.
        var gateway = SwitchyardChart.Gateway(render);
        var gatewaySelector = render.Single("Service", "switchyard")["spec"]!["selector"]!.AsObject();
        Assert.False(Selects(gatewaySelector, redis));
        Assert.False(Selects(service["spec"]!["selector"]!.AsObject(), gateway));
        Assert.True(Selects(gatewaySelector, gateway));

        // The gateway finds it without a REDIS_URL in the values, and may reach it through the NetworkPolicy.
        Assert.Equal("redis://redis:6379", (string?)SwitchyardChart.Env(SwitchyardChart.Container(gateway), "REDIS_URL")!["value"]);
        var policy = Assert.Single(render.OfKind("NetworkPolicy"), p => SwitchyardChart.Component(p) == "gateway");
        Assert.Contains(policy["spec"]!["egress"]!.AsArray(), rule =>
            rule!["to"]?[0]?["podSelector"]?["matchLabels"]?["app.kubernetes.io/component"]?.GetValue<string>() == "redis"
            && (int)rule["ports"]![0]!["port"]! == 6379);
        var redisPolicy = Assert.Single(render.OfKind("NetworkPolicy"), p => SwitchyardChart.Component(p) == "redis");
        Assert.Equal("gateway", (string?)redisPolicy["spec"]!["ingress"]![0]!["from"]![0]!["podSelector"]!["matchLabels"]!["app.kubernetes.io/component"]);

        var nodePort = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["environment.data.CACHE_STORE"] = "redis", ["redis.serviceType"] = "NodePort" });
        Assert.NotEqual(0, nodePort.ExitCode);
    }

    [Fact]
    public async Task Limits_replicas_follows_the_most_replicas_that_can_run_unless_set()
    {
        static async Task<IReadOnlyList<string?>> LimitsReplicasAsync(params (string, string)[] sets)
        {
            var container = SwitchyardChart.Container(SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(sets)));
            return container["env"]!.AsArray().Where(e => (string?)e!["name"] == "LIMITS_REPLICAS").Select(e => (string?)e!["value"]).ToList();
        }
        Assert.Equal(["3"], await LimitsReplicasAsync(("replicaCount", "3")));
        // With an autoscaler the count moves; its maximum keeps the per-replica shares from adding up past a limit.
        Assert.Equal(["7"], await LimitsReplicasAsync(("replicaCount", "3"), ("autoscaling.enabled", "true"), ("autoscaling.maxReplicas", "7")));
        Assert.Equal(["5"], await LimitsReplicasAsync(("replicaCount", "3"), ("environment.create", "false"), ("environment.data.LIMITS_REPLICAS", "5")));
    }

    private static bool Selects(JsonObject selector, JsonObject workload)
    {
        var labels = workload["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        return selector.All(s => (string?)labels[s.Key] == (string?)s.Value);
    }

    [Fact]
    public async Task Redis_auth_puts_the_password_in_a_secret_used_by_redis_and_the_gateway()
    {
        var render = await SwitchyardChart.RenderOkAsync(("environment.data.CACHE_STORE", "redis"), ("redis.auth.enabled", "true"), ("redis.auth.password", "s3cret"));
        var secret = render.Single("Secret", "redis-auth");
        Assert.Equal("s3cret", Encoding.UTF8.GetString(Convert.FromBase64String((string)secret["data"]!["redis-password"]!)));
        var redis = SwitchyardChart.Container(SwitchyardChart.Redis(render)!, "redis");
        Assert.Contains("--requirepass", redis["args"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("switchyard-redis-auth", (string?)SwitchyardChart.Env(redis, "REDIS_PASSWORD")!["valueFrom"]!["secretKeyRef"]!["name"]);
        var gateway = SwitchyardChart.Container(SwitchyardChart.Gateway(render));
        Assert.Equal("switchyard-redis-auth", (string?)SwitchyardChart.Env(gateway, "REDIS_PASSWORD")!["valueFrom"]!["secretKeyRef"]!["name"]);

        var noPassword = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["environment.data.CACHE_STORE"] = "redis", ["redis.auth.enabled"] = "true" });
        Assert.NotEqual(0, noPassword.ExitCode);
        Assert.Contains("redis.auth", noPassword.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dataservice_values_are_accepted_and_render_nothing()
    {
        var plain = await SwitchyardChart.RenderOkAsync();
        var withDataservice = await SwitchyardChart.RenderOkAsync(
            ("dataservice.enabled", "true"), ("dataservice.name", "dataservice"), ("dataservice.env.DEBUG_ENABLED", "true"),
            ("dataservice.serviceAccount.create", "true"), ("dataservice.serviceAccount.name", "ds"), ("dataserviceImage.repository", "docker.io/portkeyai/data-service"));
        Assert.Equal(plain.Yaml, withDataservice.Yaml);
    }

    [Fact]
    public async Task Ingress_routes_hosts_or_paths_to_the_active_servers()
    {
        var gatewayOnly = (await SwitchyardChart.RenderOkAsync(("ingress.enabled", "true"), ("ingress.hostname", "gw.example.org"))).Single("Ingress");
        var rule = Assert.Single(gatewayOnly["spec"]!["rules"]!.AsArray())!;
        Assert.Equal("gw.example.org", (string?)rule["host"]);
        var path = Assert.Single(rule["http"]!["paths"]!.AsArray())!;
        Assert.Equal("/", (string?)path["path"]);
        Assert.Equal("http", (string?)path["backend"]!["service"]!["port"]!["name"]);

        var hostBased = (await SwitchyardChart.RenderScenarioAsync("all-hostbased-sets")).Single("Ingress");
        var rules = hostBased["spec"]!["rules"]!.AsArray().ToDictionary(r => (string)r!["host"]!, r => (string)r!["http"]!["paths"]![0]!["backend"]!["service"]!["port"]!["name"]!);
        Assert.Equal(new Dictionary<string, string> { ["gw.example.org"] = "http", ["mcp.gw.example.org"] = "mcp" }, rules);

        var example = (await SwitchyardChart.RenderScenarioAsync("all-hostbased")).Single("Ingress");
        var exampleRules = example["spec"]!["rules"]!.AsArray().ToDictionary(r => (string)r!["host"]!, r => (string)r!["http"]!["paths"]![0]!["backend"]!["service"]!["port"]!["name"]!);
        Assert.Equal(new Dictionary<string, string> { ["gateway.example.com"] = "http", ["mcp.example.com"] = "mcp" }, exampleRules);
        Assert.Equal("nginx", (string?)example["spec"]!["ingressClassName"]);

        var pathBased = (await SwitchyardChart.RenderOkAsync(("ingress.enabled", "true"), ("ingress.hostname", "gw.example.org"), ("environment.data.SERVER_MODE", "all"))).Single("Ingress");
        var paths = Assert.Single(pathBased["spec"]!["rules"]!.AsArray())!["http"]!["paths"]!.AsArray()
            .ToDictionary(p => (string)p!["path"]!, p => (string)p!["backend"]!["service"]!["port"]!["name"]!);
        Assert.Equal(new Dictionary<string, string> { ["/mcp"] = "mcp", ["/"] = "http" }, paths);

        var noHost = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string>
            { ["ingress.enabled"] = "true", ["ingress.hostBased"] = "true", ["environment.data.SERVER_MODE"] = "all" });
        Assert.NotEqual(0, noHost.ExitCode);
    }

    [Fact]
    public async Task HttpRoute_attaches_to_the_listener_and_sets_the_security_headers_with_a_separate_MCP_route()
    {
        var sets = new Dictionary<string, string>
        {
            ["httpRoute.enabled"] = "true",
            ["httpRoute.parentRefs[0].name"] = "shared",
            ["httpRoute.parentRefs[0].namespace"] = "gateway",
            ["httpRoute.parentRefs[0].sectionName"] = "external",
            ["httpRoute.hostnames[0]"] = "ai.example.org",
            ["environment.data.SERVER_MODE"] = "all",
        };
        var render = await SwitchyardChart.RenderOkAsync(null, sets);
        Assert.Empty(await ManifestSchema.ValidateAsync(render.Documents));
        var routes = render.OfKind("HTTPRoute").ToDictionary(r => (string)r["metadata"]!["name"]!);
        Assert.Equal(["switchyard", "switchyard-mcp"], routes.Keys.Order());

        var main = routes["switchyard"]["spec"]!;
        Assert.Equal("gateway.networking.k8s.io/v1", (string?)routes["switchyard"]["apiVersion"]);
        Assert.Equal("external", (string?)main["parentRefs"]![0]!["sectionName"]);
        Assert.Equal(["ai.example.org"], main["hostnames"]!.AsArray().Select(h => (string)h!));
        Assert.Equal(8787, (int)main["rules"]![0]!["backendRefs"]![0]!["port"]!);
        var headers = SecurityHeaders(main);
        Assert.Equal("max-age=31536000; includeSubDomains", headers["Strict-Transport-Security"]);
        Assert.Equal("nosniff", headers["X-Content-Type-Options"]);
        Assert.Equal("DENY", headers["X-Frame-Options"]);
        Assert.Equal("no-referrer", headers["Referrer-Policy"]);
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", headers["Content-Security-Policy"]);
        Assert.Contains("camera=()", headers["Permissions-Policy"], StringComparison.Ordinal);

        var mcp = routes["switchyard-mcp"]["spec"]!;
        Assert.Equal(["mcp.ai.example.org"], mcp["hostnames"]!.AsArray().Select(h => (string)h!));
        Assert.Equal(8788, (int)mcp["rules"]![0]!["backendRefs"]![0]!["port"]!);
        Assert.Equal("external", (string?)mcp["parentRefs"]![0]!["sectionName"]);

        var gatewayOnly = await SwitchyardChart.RenderOkAsync(null, new Dictionary<string, string>(sets) { ["environment.data.SERVER_MODE"] = "" });
        Assert.Equal("switchyard", (string?)Assert.Single(gatewayOnly.OfKind("HTTPRoute"))["metadata"]!["name"]);

        var noParent = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["httpRoute.enabled"] = "true" });
        Assert.NotEqual(0, noParent.ExitCode);
    }

    internal static Dictionary<string, string> SecurityHeaders(JsonNode routeSpec)
    {
        var filter = Assert.Single(routeSpec["rules"]![0]!["filters"]!.AsArray(), f => (string?)f!["type"] == "ResponseHeaderModifier")!;
        return filter["responseHeaderModifier"]!["set"]!.AsArray().ToDictionary(h => (string)h!["name"]!, h => (string)h!["value"]!);
    }

    [Fact]
    public async Task Autoscaling_drops_replicas_and_adds_zone_spread_and_a_disruption_budget()
    {
        var render = await SwitchyardChart.RenderOkAsync(("autoscaling.enabled", "true"), ("autoscaling.minReplicas", "3"));
        var gateway = SwitchyardChart.Gateway(render);
        Assert.Null(gateway["spec"]!["replicas"]);
        var hpa = render.Single("HorizontalPodAutoscaler");
        Assert.Equal("autoscaling/v2", (string?)hpa["apiVersion"]);
        Assert.Equal(3, (int)hpa["spec"]!["minReplicas"]!);
        Assert.Equal("switchyard", (string?)hpa["spec"]!["scaleTargetRef"]!["name"]);
        var spread = Assert.Single(SwitchyardChart.PodSpec(gateway)["topologySpreadConstraints"]!.AsArray())!;
        Assert.Equal("topology.kubernetes.io/zone", (string?)spread["topologyKey"]);
        Assert.Equal("gateway", (string?)spread["labelSelector"]!["matchLabels"]!["app.kubernetes.io/component"]);
        Assert.Equal(1, (int)render.Single("PodDisruptionBudget")["spec"]!["minAvailable"]!);

        var twoReplicas = await SwitchyardChart.RenderOkAsync(("replicaCount", "2"), ("topologySpread.topologyKey", "kubernetes.io/hostname"));
        Assert.Equal("kubernetes.io/hostname", (string?)SwitchyardChart.PodSpec(SwitchyardChart.Gateway(twoReplicas))["topologySpreadConstraints"]![0]!["topologyKey"]);
        Assert.Single(twoReplicas.OfKind("PodDisruptionBudget"));
        Assert.Empty(twoReplicas.OfKind("HorizontalPodAutoscaler"));
    }

    [Fact]
    public async Task Service_annotations_stay_on_the_service_and_other_metadata_lands_where_it_belongs()
    {
        var render = await SwitchyardChart.RenderOkAsync(
            ("service.annotations.cloud\\.google\\.com/l4-rbs", "enabled"), ("service.type", "LoadBalancer"),
            ("commonLabels.team", "ai"), ("podLabels.tier", "edge"), ("podAnnotations.example\\.com/note", "x"),
            ("serviceAccount.annotations.iam\\.gke\\.io/gcp-service-account", "gsa@p.iam.gserviceaccount.com"), ("ingress.enabled", "true"));
        var service = render.Single("Service", "switchyard");
        Assert.Equal("enabled", (string?)service["metadata"]!["annotations"]!["cloud.google.com/l4-rbs"]);
        Assert.Equal("LoadBalancer", (string?)service["spec"]!["type"]);
        foreach (var doc in render.Documents.Where(d => d != service))
        {
            Assert.Null(doc["metadata"]!["annotations"]?["cloud.google.com/l4-rbs"]);
        }
        Assert.All(render.Documents, d => Assert.Equal("ai", (string?)d["metadata"]!["labels"]!["team"]));
        var gateway = SwitchyardChart.Gateway(render);
        Assert.Equal("edge", (string?)gateway["spec"]!["template"]!["metadata"]!["labels"]!["tier"]);
        Assert.Null(gateway["spec"]!["selector"]!["matchLabels"]!["tier"]);
        Assert.Null(gateway["spec"]!["selector"]!["matchLabels"]!["team"]);
        Assert.Equal("x", SwitchyardChart.PodAnnotation(gateway, "example.com/note"));
        Assert.Equal("gsa@p.iam.gserviceaccount.com", (string?)render.Single("ServiceAccount")["metadata"]!["annotations"]!["iam.gke.io/gcp-service-account"]);
    }

    [Fact]
    public async Task Image_credentials_render_a_dockerconfigjson_secret_and_pull_secrets()
    {
        var render = await SwitchyardChart.RenderOkAsync(null, new Dictionary<string, string>
        {
            ["imageCredentials[0].name"] = "regcred",
            ["imageCredentials[0].create"] = "true",
            ["imageCredentials[0].registry"] = "https://index.docker.io/v1/",
            ["imageCredentials[0].username"] = "user",
            ["imageCredentials[0].password"] = "pass",
            ["imageCredentials[1].name"] = "existing",
            ["imageCredentials[1].create"] = "false",
            ["imagePullSecrets[0]"] = "other",
            ["gatewayImage.digest"] = "sha256:" + new string('a', 64),
        });
        var secret = render.Single("Secret", "regcred");
        Assert.Equal("kubernetes.io/dockerconfigjson", (string?)secret["type"]);
        var config = JsonNode.Parse(Convert.FromBase64String((string)secret["data"]![".dockerconfigjson"]!))!;
        var entry = config["auths"]!["https://index.docker.io/v1/"]!;
        Assert.Equal("user", (string?)entry["username"]);
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass")), (string?)entry["auth"]);
        Assert.DoesNotContain(render.OfKind("Secret"), s => (string?)s["metadata"]!["name"] == "existing");

        var gateway = SwitchyardChart.Gateway(render);
        Assert.Equal(["other", "regcred", "existing"], SwitchyardChart.PodSpec(gateway)["imagePullSecrets"]!.AsArray().Select(s => (string)s!["name"]!));
        Assert.Equal("ghcr.io/switchyard/gateway:0.12.0@sha256:" + new string('a', 64), (string?)SwitchyardChart.Container(gateway)["image"]);
    }

    [Fact]
    public async Task An_existing_secret_is_read_by_key_with_secretKeys_and_whole_without_them()
    {
        var explicitKeys = SwitchyardChart.Container(SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(
            ("environment.create", "false"), ("environment.existingSecret", "gw-secrets"), ("environment.secretKeys[0]", "OPENAI_API_KEY"),
            ("environment.data.LOG_LEVEL", "debug"))));
        Assert.Equal("gw-secrets", (string?)SwitchyardChart.Env(explicitKeys, "OPENAI_API_KEY")!["valueFrom"]!["secretKeyRef"]!["name"]);
        Assert.Equal("debug", (string?)SwitchyardChart.Env(explicitKeys, "LOG_LEVEL")!["value"]);
        Assert.Equal("5", (string?)SwitchyardChart.Env(explicitKeys, "SHUTDOWN_DRAIN_SECONDS")!["value"]);
        Assert.Null(explicitKeys["envFrom"]);

        var whole = await SwitchyardChart.RenderOkAsync(("environment.create", "false"), ("environment.existingSecret", "gw-secrets"));
        Assert.Empty(whole.OfKind("Secret"));
        var container = SwitchyardChart.Container(SwitchyardChart.Gateway(whole));
        Assert.Equal("gw-secrets", (string?)container["envFrom"]![0]!["secretRef"]!["name"]);

        var configMap = await SwitchyardChart.RenderOkAsync(("environment.secret", "false"), ("environment.data.LOG_LEVEL", "warn"));
        Assert.Equal("warn", (string?)configMap.Single("ConfigMap", "switchyard-env")["data"]!["LOG_LEVEL"]);
        Assert.Equal("switchyard-env", (string?)SwitchyardChart.Env(SwitchyardChart.Container(SwitchyardChart.Gateway(configMap)), "LOG_LEVEL")!["valueFrom"]!["configMapKeyRef"]!["name"]);

        var both = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["environment.existingSecret"] = "gw-secrets" });
        Assert.NotEqual(0, both.ExitCode);
    }

    /// <summary>
    /// helm template does not print NOTES.txt (and the renderer does not execute it), so it is rendered here through a
    /// copy of the chart where it is a named template included by a ConfigMap.
    /// </summary>
    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task NOTES_txt_renders_with_next_steps_that_fit_the_values(string scenario)
    {
        var copy = Directory.CreateTempSubdirectory("switchyard-notes-").FullName;
        try
        {
            CopyDirectory(SwitchyardChart.FullPath(SwitchyardChart.Dir), copy);
            var notes = Path.Combine(copy, "templates", "NOTES.txt");
            await File.WriteAllTextAsync(Path.Combine(copy, "templates", "_notes_check.tpl"),
                "{{- define \"notes.check\" }}" + await File.ReadAllTextAsync(notes) + "{{- end }}");
            File.Delete(notes);
            await File.WriteAllTextAsync(Path.Combine(copy, "templates", "notes-check.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-check\ndata:\n  notes: {{ include \"notes.check\" . | toJson }}\n");
            var (files, sets) = SwitchyardChart.Scenarios[scenario];
            var render = await HelmRenderer.RenderAsync(copy, files, sets);
            Assert.True(render.ExitCode == 0, render.Stderr);
            var text = (string)render.Single("ConfigMap", "notes-check")["data"]!["notes"]!;

            Assert.Contains("kubectl -n switchyard rollout status deployment/switchyard", text, StringComparison.Ordinal);
            Assert.Contains("/v1/health", text, StringComparison.Ordinal);
            var mcp = scenario.StartsWith("all", StringComparison.Ordinal) || scenario == "gke";
            Assert.Equal(mcp, text.Contains("MCP gateway (SERVER_MODE=", StringComparison.Ordinal));
            // The example that gives servers is not reminded of them.
            Assert.Equal(mcp && scenario != "all-hostbased", text.Contains("No servers file: set mcp.servers", StringComparison.Ordinal));
            Assert.Equal(scenario == "gke", text.Contains("no data-service role yet", StringComparison.Ordinal));
            if (scenario == "hardened")
            {
                Assert.Contains("all-models, azure-models, claude-models, cost-optimized, openai-models", text, StringComparison.Ordinal);
                Assert.Contains("describe httproute switchyard", text, StringComparison.Ordinal);
                Assert.Contains("externalsecret switchyard-external", text, StringComparison.Ordinal);
            }
            Assert.DoesNotContain("<no value>", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    [Theory]
    [InlineData("environment.data.SERVER_MODE", "bogus")]
    [InlineData("environment.data.SERVER_MODE", "mcp/all")]
    [InlineData("enviroment.create", "true")]
    [InlineData("redis.serviceType", "NodePort")]
    [InlineData("service.type", "ExternalName")]
    [InlineData("gatewayImage.pullPolicy", "Sometimes")]
    [InlineData("namespace.podSecurity.level", "strict")]
    [InlineData("configs.mountPath", "relative/path")]
    public async Task The_schema_refuses_bad_values(string key, string value)
    {
        var render = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { [key] = value });
        Assert.NotEqual(0, render.ExitCode);
        Assert.Contains("values don't meet the specifications of the schema", render.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodePort_is_allowed_but_not_the_default()
    {
        Assert.Equal("ClusterIP", (string?)(await SwitchyardChart.RenderOkAsync()).Single("Service")["spec"]!["type"]);
        Assert.Equal("NodePort", (string?)(await SwitchyardChart.RenderOkAsync(("service.type", "NodePort"))).Single("Service")["spec"]!["type"]);
    }

    [Fact]
    public async Task The_README_lists_every_value_of_values_yaml()
    {
        var readme = await File.ReadAllTextAsync(SwitchyardChart.FullPath($"{SwitchyardChart.Dir}/README.md"));
        var documented = SwitchyardChart.TableKeys(readme, "Values");
        var values = await SwitchyardChart.ReadYamlAsync(SwitchyardChart.FullPath($"{SwitchyardChart.Dir}/values.yaml"));
        var missing = SwitchyardChart.Leaves(values)
            .Where(leaf => !SwitchyardChart.SelfAndAncestors(leaf.Path).Any(documented.Contains))
            .Select(leaf => leaf.Path)
            .ToList();
        Assert.True(missing.Count == 0, "values.yaml keys missing from the README's Values tables: " + string.Join(", ", missing));
        // And the other way round: the README documents no key the schema does not know.
        var schema = JsonNode.Parse(await File.ReadAllTextAsync(SwitchyardChart.FullPath($"{SwitchyardChart.Dir}/values.schema.json")))!;
        var unknown = documented.Where(k => !InSchema(schema, k.Split('.'))).ToList();
        Assert.True(unknown.Count == 0, "README documents keys the schema refuses: " + string.Join(", ", unknown));
    }

    private static bool InSchema(JsonNode schema, string[] segments)
    {
        var node = schema;
        foreach (var segment in segments)
        {
            var name = segment.TrimEnd('[', ']');
            var next = node["properties"]?[name];
            if (next is null)
            {
                return node["additionalProperties"] is JsonObject;
            }
            node = segment.EndsWith("[]", StringComparison.Ordinal) ? next["items"]! : next;
        }
        return true;
    }
}
