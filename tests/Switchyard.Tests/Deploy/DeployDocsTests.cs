using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Deploy;

/// <summary>
/// docs/deploy-hardened.md and docs/deploy-gke.md, followed to the letter: the values files the pages tell the user to
/// write (fenced YAML blocks whose first line is "# file: NAME") and the <c>helm</c> / <c>kubectl apply -k</c>
/// commands of their shell blocks are rendered exactly as written, and the output is checked against what the pages
/// claim. For the hardened page that is every row of its "Checklist" table, on both install paths (Helm and
/// Kustomize); for the GKE page, valid restricted manifests for every command and the names the gcloud commands bind.
/// </summary>
public sealed class DeployDocsTests : IDisposable
{
    private const string ChartDir = "deploy/helm/switchyard";
    private const string HardenedValues = "deploy/helm/switchyard/examples/hardened.yaml";
    private static readonly string[] Workloads = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"];

    private readonly string _temp = Directory.CreateTempSubdirectory("switchyard-docs-test-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    // ---- docs/deploy-hardened.md --------------------------------------------------------------------------------------

    [Fact]
    public async Task Following_deploy_hardened_md_with_helm_or_kustomize_gives_every_point_of_its_checklist()
    {
        var doc = DocPage.Read("docs/deploy-hardened.md");
        AssertEveryFileIsUsed(doc);

        // Helm: the Namespace alone first (--show-only), then the release.
        var helm = doc.Commands.Where(c => c is ["helm", "upgrade" or "template", ..]).Select(HelmCommand.Parse).ToList();
        var nsCommand = Assert.Single(helm, h => h.ShowOnly is not null);
        Assert.Equal("templates/namespace.yaml", nsCommand.ShowOnly);
        var install = Assert.Single(helm, h => h.Install);
        Assert.Contains(HardenedValues, install.Files);
        Assert.Contains(HardenedValues, nsCommand.Files);
        Assert.Equal(2, helm.Count);

        var nsDocs = await RenderAsync(doc, nsCommand);
        var installDocs = await RenderAsync(doc, install);
        Assert.Equal(["Namespace"], nsDocs.Select(d => (string)d["kind"]!));
        Assert.DoesNotContain(installDocs, d => (string?)d["kind"] == "Namespace"); // the release must not own it too
        var helmPath = nsDocs.Concat(installDocs).ToList();

        // Kustomize: the overlay the page writes, built as kubectl apply -k would.
        var apply = Assert.Single(doc.Commands, c => c is ["kubectl", "apply", "-k", _]);
        var kustomizePath = await BuildKustomizationAsync(doc, apply[3]);

        var paths = new Dictionary<string, IReadOnlyList<JsonObject>> { ["helm"] = helmPath, ["kustomize"] = kustomizePath };
        var problems = new List<string>();
        foreach (var (name, documents) in paths)
        {
            problems.AddRange((await ManifestSchema.ValidateAsync(documents)).Select(p => $"{name}: {p}"));
        }

        // Every row of the checklist has a check, every check a row, and every row holds on both paths.
        var rows = ChecklistRows(doc.Text);
        problems.AddRange(rows.Where(r => !HardenedChecks.ContainsKey(r.Point)).Select(r => $"checklist row '{r.Point}' has no check in this test"));
        problems.AddRange(HardenedChecks.Keys.Where(k => rows.All(r => r.Point != k)).Select(k => $"the test checks '{k}', which the checklist no longer lists"));
        var valueTrees = new List<JsonNode?> { await ReadYamlAsync(SwitchyardChart.FullPath($"{ChartDir}/values.yaml")) };
        foreach (var file in install.Files)
        {
            valueTrees.Add(await ReadYamlAsync(await ResolveFileAsync(doc, file)));
        }
        foreach (var row in rows)
        {
            foreach (var path in row.ValuePaths.Where(p => !valueTrees.Any(t => Resolve(t, p) is not null)))
            {
                problems.Add($"checklist '{row.Point}': value {path} is in none of values.yaml and the files of the helm command");
            }
            foreach (var (name, documents) in paths.Where(_ => HardenedChecks.ContainsKey(row.Point)))
            {
                try
                {
                    HardenedChecks[row.Point](documents);
                }
                catch (Exception e) when (e is Xunit.Sdk.XunitException or InvalidOperationException or NullReferenceException)
                {
                    problems.Add($"checklist '{row.Point}' fails on the {name} path: {e.Message}");
                }
            }
        }

        // The two install paths of the page give the same objects.
        var helmSet = helmPath.Select(SwitchyardChart.Canonical).Order(StringComparer.Ordinal).ToList();
        var kustomizeSet = kustomizePath.Select(SwitchyardChart.Canonical).Order(StringComparer.Ordinal).ToList();
        if (!helmSet.SequenceEqual(kustomizeSet))
        {
            problems.Add("the helm and kustomize paths differ: only helm: "
                + string.Join("; ", helmSet.Except(kustomizeSet).Select(Brief)) + "\nonly kustomize: "
                + string.Join("; ", kustomizeSet.Except(helmSet).Select(Brief)));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>One check per row of the page's checklist, keyed by the row's first column.</summary>
    private static readonly Dictionary<string, Action<IReadOnlyList<JsonObject>>> HardenedChecks = new()
    {
        ["Namespace under the restricted Pod Security Standard"] = docs =>
        {
            var ns = One(docs, "Namespace");
            Assert.Equal("switchyard", (string?)ns["metadata"]!["name"]);
            foreach (var mode in new[] { "enforce", "audit", "warn" })
            {
                Assert.Equal("restricted", (string?)ns["metadata"]!["labels"]![$"pod-security.kubernetes.io/{mode}"]);
                Assert.Equal("latest", (string?)ns["metadata"]!["labels"]![$"pod-security.kubernetes.io/{mode}-version"]);
            }
        },
        ["Namespace applied first by GitOps"] = docs =>
            Assert.Equal("-1", (string?)One(docs, "Namespace")["metadata"]!["annotations"]?["argocd.argoproj.io/sync-wave"]),
        ["Runs as UID/GID 1000, never root"] = docs =>
        {
            var (pod, container) = GatewayPod(docs);
            var podSc = pod["securityContext"]!;
            Assert.Equal(1000, (int)podSc["runAsUser"]!);
            Assert.Equal(1000, (int)podSc["runAsGroup"]!);
            Assert.True((bool)podSc["runAsNonRoot"]!);
            var sc = container["securityContext"]!;
            Assert.Equal(1000, (int?)sc["runAsUser"] ?? 1000);
            Assert.Equal(1000, (int?)sc["runAsGroup"] ?? 1000);
        },
        ["Read-only root, no privilege escalation, no capabilities"] = docs =>
        {
            var (pod, container) = GatewayPod(docs);
            var sc = container["securityContext"]!;
            Assert.True((bool)sc["readOnlyRootFilesystem"]!);
            Assert.False((bool)sc["allowPrivilegeEscalation"]!);
            Assert.Equal(["ALL"], sc["capabilities"]!["drop"]!.AsArray().Select(c => (string)c!));
            Assert.Equal("RuntimeDefault", (string?)(sc["seccompProfile"] ?? pod["securityContext"]!["seccompProfile"])!["type"]);
        },
        ["Writable /tmp and /var/tmp only"] = docs =>
        {
            var (pod, container) = GatewayPod(docs);
            var volumes = pod["volumes"]!.AsArray().ToDictionary(v => (string)v!["name"]!, v => v!);
            var mounts = container["volumeMounts"]!.AsArray();
            foreach (var (name, path) in new[] { ("tmp", "/tmp"), ("var-tmp", "/var/tmp") })
            {
                Assert.NotNull(volumes[name]!["emptyDir"]);
                Assert.Contains(mounts, m => (string?)m!["name"] == name && (string?)m["mountPath"] == path);
            }
            var writable = mounts.Where(m => (bool?)m!["readOnly"] != true).Select(m => (string)m!["mountPath"]!).Order();
            Assert.Equal(["/tmp", "/var/tmp"], writable);
        },
        ["Passes the restricted standard"] = docs =>
        {
            var workloads = docs.Where(d => Workloads.Contains((string?)d["kind"])).ToList();
            Assert.NotEmpty(workloads);
            Assert.All(workloads, w => Assert.Empty(PodSecurity.RestrictedViolations(w)));
            Assert.False((bool)GatewayPod(docs).Pod["automountServiceAccountToken"]!);
        },
        ["Startup probe allows up to 50 s"] = docs =>
        {
            var probe = Probe(docs, "startupProbe", "/v1/health");
            Assert.Equal(5, (int)probe["periodSeconds"]!);
            Assert.Equal(10, (int)probe["failureThreshold"]!);
            Assert.Equal(50, ((int?)probe["initialDelaySeconds"] ?? 0) + (int)probe["periodSeconds"]! * (int)probe["failureThreshold"]!);
        },
        ["Readiness every 10 s"] = docs => Assert.Equal(10, (int)Probe(docs, "readinessProbe", "/v1/health/ready")["periodSeconds"]!),
        ["Liveness every 30 s"] = docs => Assert.Equal(30, (int)Probe(docs, "livenessProbe", "/v1/health")["periodSeconds"]!),
        ["Requests 100m/256Mi, limits 500m/512Mi"] = docs =>
        {
            var resources = GatewayPod(docs).Container["resources"]!;
            Assert.Equal("100m", (string?)resources["requests"]!["cpu"]);
            Assert.Equal("256Mi", (string?)resources["requests"]!["memory"]);
            Assert.Equal("500m", (string?)resources["limits"]!["cpu"]);
            Assert.Equal("512Mi", (string?)resources["limits"]!["memory"]);
        },
        ["Pinned image version"] = docs =>
        {
            var gateway = Gateway(docs);
            Assert.EndsWith(":0.12.0", (string)SwitchyardChart.Container(gateway)["image"]!, StringComparison.Ordinal);
            Assert.Equal("0.12.0", (string?)gateway["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/version"]);
        },
        ["Ingress only from the gateway and monitoring namespaces"] = docs =>
        {
            var policy = One(docs, "NetworkPolicy", "switchyard")["spec"]!;
            Assert.Contains("Ingress", policy["policyTypes"]!.AsArray().Select(t => (string)t!));
            Assert.Equal("gateway", (string?)policy["podSelector"]!["matchLabels"]!["app.kubernetes.io/component"]);
            var rule = Assert.Single(policy["ingress"]!.AsArray())!;
            Assert.All(rule["from"]!.AsArray(), p => Assert.Equal(["namespaceSelector"], p!.AsObject().Select(k => k.Key)));
            Assert.Equal(["gateway", "monitoring"], rule["from"]!.AsArray()
                .Select(p => (string)p!["namespaceSelector"]!["matchLabels"]!["kubernetes.io/metadata.name"]!).Order());
            Assert.Equal([8787], rule["ports"]!.AsArray().Select(p => (int)p!["port"]!));
        },
        ["Egress only DNS, HTTP and HTTPS"] = docs =>
        {
            var policy = One(docs, "NetworkPolicy", "switchyard")["spec"]!;
            Assert.Contains("Egress", policy["policyTypes"]!.AsArray().Select(t => (string)t!));
            var rules = policy["egress"]!.AsArray();
            Assert.All(rules, r => Assert.NotEmpty(r!["ports"]?.AsArray() ?? [])); // no rule opens every port
            var ports = rules.SelectMany(r => r!["ports"]!.AsArray()).Select(p => $"{(string)p!["protocol"]!}/{(int)p["port"]!}").Order();
            Assert.Equal(["TCP/443", "TCP/53", "TCP/80", "UDP/53"], ports);
        },
        ["Reached through the shared Gateway's external listener"] = docs =>
        {
            var route = One(docs, "HTTPRoute", "switchyard")["spec"]!;
            var parent = Assert.Single(route["parentRefs"]!.AsArray())!;
            Assert.Equal(("shared-gateway", "gateway", "external"),
                ((string?)parent["name"], (string?)parent["namespace"], (string?)parent["sectionName"]));
            Assert.Equal(["gateway.example.com"], route["hostnames"]!.AsArray().Select(h => (string)h!));
            var backend = Assert.Single(route["rules"]![0]!["backendRefs"]!.AsArray())!;
            Assert.Equal(("switchyard", 8787), ((string?)backend["name"], (int)backend["port"]!));
            Assert.Equal("ClusterIP", (string?)One(docs, "Service", "switchyard")["spec"]!["type"]);
            Assert.DoesNotContain(docs, d => (string?)d["kind"] == "Ingress");
        },
        ["Strict security response headers"] = docs =>
        {
            var route = One(docs, "HTTPRoute", "switchyard")["spec"]!;
            Assert.Equal(new Dictionary<string, string>
            {
                ["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains",
                ["X-Content-Type-Options"] = "nosniff",
                ["X-Frame-Options"] = "DENY",
                ["Referrer-Policy"] = "no-referrer",
                ["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'",
                ["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()",
            }, ChartTests.SecurityHeaders(route));
            var filter = route["rules"]![0]!["filters"]!.AsArray().Single(f => (string?)f!["type"] == "ResponseHeaderModifier")!;
            Assert.Equal(["Server", "X-Powered-By"], filter["responseHeaderModifier"]!["remove"]!.AsArray().Select(h => (string)h!).Order());
        },
        ["Prometheus scrapes /metrics every 30 s"] = docs =>
        {
            var monitor = One(docs, "ServiceMonitor", "switchyard");
            var endpoint = Assert.Single(monitor["spec"]!["endpoints"]!.AsArray())!;
            Assert.Equal(("http", "/metrics", "http", "30s"),
                ((string?)endpoint["port"], (string?)endpoint["path"], (string?)endpoint["scheme"], (string?)endpoint["interval"]));
            Assert.Equal("kube-prometheus-stack", (string?)monitor["metadata"]!["labels"]!["release"]);
            Assert.Contains("http", SwitchyardChart.ServicePorts(One(docs, "Service", "switchyard")).Keys);
        },
        ["Five named routing configs at /app/configs"] = docs =>
        {
            var configMap = One(docs, "ConfigMap", "switchyard-configs");
            Assert.Equal(["all-models.json", "azure-models.json", "claude-models.json", "cost-optimized.yaml", "openai-models.json"],
                configMap["data"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
            var (pod, container) = GatewayPod(docs);
            var mount = SwitchyardChart.Mount(container, "configs")!;
            Assert.Equal("/app/configs", (string?)mount["mountPath"]);
            Assert.True((bool)mount["readOnly"]!);
            var volume = pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == "configs")!;
            Assert.Equal((string?)configMap["metadata"]!["name"], (string?)volume["configMap"]!["name"]);
        },
        ["Config changes reload without a restart"] = docs =>
        {
            var gateway = Gateway(docs);
            Assert.Null(SwitchyardChart.Mount(SwitchyardChart.Container(gateway), "configs")!["subPath"]);
            Assert.Equal("", SwitchyardChart.PodAnnotation(gateway, "checksum/configs"));
        },
        ["Provider keys from the secret store, none in Git"] = docs =>
        {
            var spec = One(docs, "ExternalSecret")["spec"]!;
            Assert.Equal(("ClusterSecretStore", "bitwarden"), ((string?)spec["secretStoreRef"]!["kind"], (string?)spec["secretStoreRef"]!["name"]));
            Assert.NotEmpty(spec["data"]!.AsArray());
            var target = (string)spec["target"]!["name"]!;
            Assert.Contains(GatewayPod(docs).Container["envFrom"]!.AsArray(), s => (string?)s!["secretRef"]?["name"] == target);
            var env = One(docs, "ConfigMap", "switchyard-env");
            Assert.DoesNotContain(env["data"]!.AsObject(), p => p.Key.Contains("KEY", StringComparison.Ordinal));
            Assert.DoesNotContain(docs, d => (string?)d["kind"] == "Secret");
        },
    };

    // ---- docs/deploy-gke.md -------------------------------------------------------------------------------------------

    [Fact]
    public async Task Every_helm_command_of_deploy_gke_md_renders_what_the_page_and_its_gcloud_commands_expect()
    {
        var doc = DocPage.Read("docs/deploy-gke.md");
        AssertEveryFileIsUsed(doc);
        foreach (var name in new[] { "PROJECT_ID", "REGION", "NAMESPACE", "KSA", "GSA", "BUCKET" })
        {
            Assert.True(doc.Vars.ContainsKey(name), $"the page defines no {name}=");
        }
        var (project, region, ns, ksa, gsa, bucket) = (doc.Vars["PROJECT_ID"], doc.Vars["REGION"], doc.Vars["NAMESPACE"], doc.Vars["KSA"], doc.Vars["GSA"], doc.Vars["BUCKET"]);
        // The workload-identity binding the page runs names exactly this member.
        Assert.Contains(doc.Commands, c => c is ["gcloud", "iam", "service-accounts", "add-iam-policy-binding", ..]
            && c[4] == $"{gsa}@{project}.iam.gserviceaccount.com"
            && c.Contains("--role=roles/iam.workloadIdentityUser")
            && c.Contains($"--member=serviceAccount:{project}.svc.id.goog[{ns}/{ksa}]"));

        var helm = doc.Commands.Where(c => c is ["helm", "upgrade" or "template", ..]).Select(HelmCommand.Parse).ToList();
        Assert.True(helm.Count(h => h.Install) >= 2, "the page should show an install for each set of choices");
        var problems = new List<string>();
        var seen = new HashSet<string>();
        foreach (var command in helm)
        {
            var label = string.Join(" ", command.Files);
            var docs = await RenderAsync(doc, command);
            problems.AddRange((await ManifestSchema.ValidateAsync(docs)).Select(p => $"{label}: {p}"));
            problems.AddRange(docs.Where(d => Workloads.Contains((string?)d["kind"])).SelectMany(PodSecurity.RestrictedViolations).Select(p => $"{label}: {p}"));
            Assert.Equal(ns, command.Namespace);
            Assert.All(docs.Where(d => (string?)d["kind"] != "Namespace"), d => Assert.Equal(ns, (string?)d["metadata"]!["namespace"]));

            // The service account the gcloud binding names, annotated with the GSA.
            var sa = One(docs, "ServiceAccount");
            Assert.Equal(ksa, (string?)sa["metadata"]!["name"]);
            Assert.Equal($"{gsa}@{project}.iam.gserviceaccount.com", (string?)sa["metadata"]!["annotations"]?["iam.gke.io/gcp-service-account"]);
            var (pod, container) = GatewayPod(docs);
            Assert.Equal(ksa, (string?)pod["serviceAccountName"]);
            // The image the page builds and pushes, and the pull secret it creates.
            Assert.Equal($"{region}-docker.pkg.dev/{project}/switchyard/gateway:0.12.0", (string?)container["image"]);
            Assert.Contains(pod["imagePullSecrets"]!.AsArray(), s => (string?)s!["name"] == "artifact-registry");
            Assert.DoesNotContain(docs, d => (string?)d["kind"] == "Secret" && (string?)d["type"] == "kubernetes.io/dockerconfigjson");

            var env = EnvData(docs);
            Assert.DoesNotContain("PORTKEY_CLIENT_AUTH", env.Keys);
            Assert.DoesNotContain("ORGANISATIONS_TO_SYNC", env.Keys);
            Assert.DoesNotContain("ANALYTICS_STORE", env.Keys);
            if (env.TryGetValue("LOG_STORE", out var logStore))
            {
                seen.Add("log:" + logStore);
                Assert.Equal(bucket, env["LOG_STORE_GENERATIONS_BUCKET"]);
                if (logStore == "gcs_assume")
                {
                    Assert.Equal("workload", env["GCP_AUTH_MODE"]);
                }
                else
                {
                    Assert.Equal("gcs", logStore);
                    Assert.Contains(container["envFrom"]!.AsArray(), s => (string?)s!["secretRef"]?["name"] == "gcs-hmac");
                }
            }
            if (env.TryGetValue("REDIS_TLS_CERTS", out var caFile))
            {
                // The CA file sits under a mount of the Secret the page creates.
                seen.Add("memorystore");
                var mount = container["volumeMounts"]!.AsArray().Single(m => caFile.StartsWith((string)m!["mountPath"]! + "/", StringComparison.Ordinal))!;
                var volume = pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
                Assert.Equal("memorystore-ca", (string?)volume["secret"]?["secretName"]);
                Assert.Equal("workload", env["GCP_REDIS_AUTH_MODE"]);
            }
            if (env.GetValueOrDefault("CACHE_STORE") == "redis")
            {
                seen.Add("redis");
                Assert.Contains(docs, d => (string?)d["kind"] == "Deployment" && SwitchyardChart.Component(d) == "redis");
            }
            foreach (var ingress in docs.Where(d => (string?)d["kind"] == "Ingress"))
            {
                seen.Add("ingress");
                var annotations = ingress["metadata"]!["annotations"]!;
                Assert.Equal("/v1/health", (string?)annotations["ingress.gcp.kubernetes.io/healthcheck-path"]);
                Assert.Equal("gce", (string?)annotations["kubernetes.io/ingress.class"]);
            }
            var service = One(docs, "Service", "switchyard");
            if ((string?)service["spec"]!["type"] == "LoadBalancer")
            {
                seen.Add("loadbalancer");
                Assert.Equal("enabled", (string?)service["metadata"]!["annotations"]!["cloud.google.com/l4-rbs"]);
                Assert.NotEmpty(service["spec"]!["loadBalancerSourceRanges"]!.AsArray());
            }
            var configs = docs.SingleOrDefault(d => (string?)d["kind"] == "ConfigMap" && (string?)d["metadata"]!["name"] == "switchyard-configs");
            if (configs?["data"]?["vertex-gemini.json"] is { } vertex)
            {
                seen.Add("vertex");
                var config = JsonNode.Parse((string)vertex!)!;
                Assert.Equal(("vertex-ai", project, region), ((string?)config["provider"], (string?)config["vertex_project_id"], (string?)config["vertex_region"]));
                Assert.Equal("workload", env["GCP_AUTH_MODE"]);
            }
            if (env.GetValueOrDefault("SERVER_MODE") is "all" or "mcp")
            {
                // The preview: what the chart renders for the MCP gateway, and nothing for the data service.
                Assert.False(command.Install, "the page previews the MCP values with helm template");
                seen.Add("mcp-preview");
                Assert.Equal(8788, SwitchyardChart.ServicePorts(service)["mcp"]);
                Assert.Equal(2, One(docs, "Ingress")["spec"]!["rules"]!.AsArray().Count);
                Assert.DoesNotContain(docs, d => ((string?)d["metadata"]?["name"] ?? "").Contains("dataservice", StringComparison.Ordinal));
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(["ingress", "loadbalancer", "log:gcs", "log:gcs_assume", "mcp-preview", "memorystore", "redis", "vertex"], seen.Order(StringComparer.Ordinal));
    }

    // ---- the page: files, commands, variables ---------------------------------------------------------------------

    private sealed record DocPage(string Text, Dictionary<string, string> Files, List<string[]> Commands, Dictionary<string, string> Vars)
    {
        public static DocPage Read(string relative)
        {
            var text = File.ReadAllText(SwitchyardChart.FullPath(relative)).Replace("\r\n", "\n", StringComparison.Ordinal);
            var files = new Dictionary<string, string>(StringComparer.Ordinal);
            var commands = new List<string[]>();
            var vars = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match block in Regex.Matches(text, @"^```(\w*)\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline))
            {
                var (lang, body) = (block.Groups[1].Value, block.Groups[2].Value);
                if (lang == "yaml" && Regex.Match(body, @"\A# file: (\S+)\n") is { Success: true } marker)
                {
                    Assert.True(files.TryAdd(marker.Groups[1].Value, body), $"{relative}: two blocks write {marker.Groups[1].Value}");
                }
                if (lang is not ("sh" or "bash"))
                {
                    continue;
                }
                foreach (var line in body.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n'))
                {
                    if (Regex.Match(line, @"^([A-Z_][A-Z0-9_]*)=(\S+)") is { Success: true } assignment)
                    {
                        vars.TryAdd(assignment.Groups[1].Value, assignment.Groups[2].Value);
                        continue;
                    }
                    var words = Shell(line, vars);
                    if (words.Count > 0)
                    {
                        commands.Add([.. words]);
                    }
                }
            }
            return new DocPage(text, files, commands, vars);
        }

        /// <summary>A shell line split into words, quotes removed and $VAR / ${VAR} expanded, up to a pipe or a comment.</summary>
        private static List<string> Shell(string line, Dictionary<string, string> vars)
        {
            var words = new List<string>();
            var word = new StringBuilder();
            var inWord = false;
            char quote = '\0';
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                if (quote == '\'')
                {
                    if (c == '\'') { quote = '\0'; } else { word.Append(c); }
                    continue;
                }
                if (c == '$' && Regex.Match(line[(i + 1)..], @"^(\{([A-Z_][A-Z0-9_]*)\}|([A-Z_][A-Z0-9_]*))") is { Success: true } v)
                {
                    var name = v.Groups[2].Success ? v.Groups[2].Value : v.Groups[3].Value;
                    word.Append(vars.TryGetValue(name, out var value) ? value : "$" + name);
                    inWord = true;
                    i += v.Length;
                    continue;
                }
                if (quote == '"')
                {
                    if (c == '"') { quote = '\0'; } else { word.Append(c); }
                    continue;
                }
                if (c is '\'' or '"')
                {
                    quote = c;
                    inWord = true;
                }
                else if (char.IsWhiteSpace(c))
                {
                    if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
                }
                else if ((c == '#' && !inWord) || c == '|')
                {
                    break;
                }
                else
                {
                    word.Append(c);
                    inWord = true;
                }
            }
            if (inWord)
            {
                words.Add(word.ToString());
            }
            return words;
        }
    }

    private sealed record HelmCommand(bool Install, string Release, string Chart, string Namespace, List<string> Files, Dictionary<string, string> Sets, string? ShowOnly)
    {
        public static HelmCommand Parse(string[] words)
        {
            var install = words is [_, "upgrade", ..] && words.Contains("--install");
            Assert.True(install || words is [_, "template", ..], "a helm command that is neither upgrade --install nor template: " + string.Join(' ', words));
            var positional = new List<string>();
            var files = new List<string>();
            var sets = new Dictionary<string, string>();
            string? ns = null, showOnly = null;
            for (var i = 2; i < words.Length; i++)
            {
                switch (words[i])
                {
                    case "--install" or "--create-namespace":
                        break;
                    case "-n" or "--namespace":
                        ns = words[++i];
                        break;
                    case "-f" or "--values":
                        files.Add(words[++i]);
                        break;
                    case "--set":
                        var kv = words[++i].Split('=', 2);
                        sets[kv[0]] = kv[1];
                        break;
                    case "--show-only" or "-s":
                        showOnly = words[++i];
                        break;
                    case var option when option.StartsWith('-'):
                        throw new InvalidOperationException($"the test does not know helm option {option} (in: {string.Join(' ', words)})");
                    default:
                        positional.Add(words[i]);
                        break;
                }
            }
            Assert.Equal(2, positional.Count);
            Assert.Equal(ChartDir, positional[1]);
            Assert.NotNull(ns);
            return new HelmCommand(install, positional[0], positional[1], ns!, files, sets, showOnly);
        }
    }

    private static void AssertEveryFileIsUsed(DocPage doc)
    {
        var used = doc.Commands.SelectMany(c => c).ToHashSet(StringComparer.Ordinal);
        foreach (var file in doc.Files.Keys)
        {
            var dir = Path.GetDirectoryName(file) ?? "";
            Assert.True(used.Contains(file) || (file.EndsWith("/kustomization.yaml", StringComparison.Ordinal) && used.Contains(dir)),
                $"the page writes {file} but no command uses it");
        }
    }

    /// <summary>A file named in a command: one the page writes (into the temp directory), else a file of the repository.</summary>
    private async Task<string> ResolveFileAsync(DocPage doc, string name)
    {
        if (doc.Files.TryGetValue(name, out var content))
        {
            var path = Path.Combine(_temp, name.Replace('/', '_'));
            await File.WriteAllTextAsync(path, content);
            return path;
        }
        var repoPath = SwitchyardChart.FullPath(name);
        Assert.True(File.Exists(repoPath), $"{name}: neither written by the page nor in the repository");
        return repoPath;
    }

    private async Task<IReadOnlyList<JsonObject>> RenderAsync(DocPage doc, HelmCommand command)
    {
        var files = new List<string>();
        foreach (var file in command.Files)
        {
            files.Add(await ResolveFileAsync(doc, file));
        }
        var render = await HelmRenderer.RenderAsync(command.Chart, files, command.Sets, command.Release, command.Namespace);
        Assert.True(render.ExitCode == 0, $"helm {string.Join(' ', command.Files)} did not render:\n{render.Stderr}");
        if (command.ShowOnly is null)
        {
            return render.Documents;
        }
        // --show-only: the documents whose "# Source:" is that template.
        var chunks = Regex.Split(render.Yaml, @"^---\n", RegexOptions.Multiline)
            .Where(c => Regex.IsMatch(c, @"\A# Source: [^/\n]+/" + Regex.Escape(command.ShowOnly) + @"\n")).ToList();
        Assert.NotEmpty(chunks);
        var parsed = await DeployTools.RunAsync(await DeployTools.RendererAsync(), ["--yaml-to-json", "-"], stdin: string.Join("---\n", chunks));
        Assert.True(parsed.ExitCode == 0, parsed.Stderr);
        return DeployTools.ParseDocuments(parsed.Stdout);
    }

    /// <summary>The overlay the page writes, its resources made absolute from where the page puts it, built with kubectl kustomize.</summary>
    private async Task<IReadOnlyList<JsonObject>> BuildKustomizationAsync(DocPage doc, string dir)
    {
        var name = dir.TrimEnd('/') + "/kustomization.yaml";
        if (!doc.Files.TryGetValue(name, out var content))
        {
            return await Kustomize.BuildAsync(dir);
        }
        var kustomization = (await ReadYamlTextAsync(content))!.AsObject();
        var resources = kustomization["resources"]!.AsArray();
        var overlay = Path.Combine(_temp, "overlay");
        Directory.CreateDirectory(overlay);
        for (var i = 0; i < resources.Count; i++)
        {
            // kustomize takes no absolute roots: the same target, relative to where the overlay is built.
            var target = Path.GetFullPath(Path.Combine(RepoPaths.Root, dir, (string)resources[i]!));
            resources[i] = Path.GetRelativePath(overlay, target);
        }
        await File.WriteAllTextAsync(Path.Combine(overlay, "kustomization.yaml"), kustomization.ToJsonString()); // JSON is YAML
        return await Kustomize.BuildAsync(overlay);
    }

    // ---- the checklist table --------------------------------------------------------------------------------------------

    private sealed record ChecklistRow(string Point, IReadOnlyList<string> ValuePaths);

    private static List<ChecklistRow> ChecklistRows(string text)
    {
        var start = text.IndexOf("\n## Checklist", StringComparison.Ordinal);
        Assert.True(start >= 0, "the page has no '## Checklist' section");
        var end = text.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        var section = end < 0 ? text[start..] : text[start..end];
        var rows = new List<ChecklistRow>();
        foreach (var line in section.Split('\n').Where(l => l.StartsWith('|')).Skip(2))
        {
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.True(cells.Length == 3, "a checklist row without three cells: " + line);
            var paths = Regex.Matches(cells[1], "`([^`]+)`").Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(paths);
            rows.Add(new ChecklistRow(cells[0], paths));
        }
        Assert.NotEmpty(rows);
        return rows;
    }

    private static JsonNode? Resolve(JsonNode? tree, string path)
    {
        var node = tree;
        foreach (var segment in path.Split('.'))
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(segment, out node))
            {
                return null;
            }
            node ??= JsonValue.Create("null");
        }
        return node;
    }

    // ---- helpers ------------------------------------------------------------------------------------------------------

    private static JsonObject One(IReadOnlyList<JsonObject> docs, string kind, string? name = null)
    {
        var matches = docs.Where(d => (string?)d["kind"] == kind && (name is null || (string?)d["metadata"]?["name"] == name)).ToList();
        return matches.Count == 1
            ? matches[0]
            : throw new InvalidOperationException($"expected one {kind}{(name is null ? "" : " " + name)}, found {matches.Count}");
    }

    private static JsonObject Gateway(IReadOnlyList<JsonObject> docs) =>
        docs.Single(d => (string?)d["kind"] == "Deployment" && SwitchyardChart.Component(d) == "gateway");

    private static (JsonObject Pod, JsonObject Container) GatewayPod(IReadOnlyList<JsonObject> docs)
    {
        var gateway = Gateway(docs);
        return (SwitchyardChart.PodSpec(gateway), SwitchyardChart.Container(gateway));
    }

    private static JsonNode Probe(IReadOnlyList<JsonObject> docs, string probe, string path)
    {
        var node = GatewayPod(docs).Container[probe] ?? throw new InvalidOperationException($"no {probe}");
        Assert.Equal(path, (string?)node["httpGet"]!["path"]);
        Assert.Equal(8787, (int)node["httpGet"]!["port"]!);
        return node;
    }

    /// <summary>The chart's environment object <c>switchyard-env</c> (Secret values decoded).</summary>
    private static Dictionary<string, string> EnvData(IReadOnlyList<JsonObject> docs)
    {
        var env = docs.Single(d => (string?)d["kind"] is "Secret" or "ConfigMap" && (string?)d["metadata"]!["name"] == "switchyard-env");
        var secret = (string?)env["kind"] == "Secret";
        return (env["data"]?.AsObject() ?? []).ToDictionary(p => p.Key,
            p => secret ? Encoding.UTF8.GetString(Convert.FromBase64String((string)p.Value!)) : (string)p.Value!);
    }

    private static async Task<JsonNode?> ReadYamlAsync(string path) => await ReadYamlTextAsync(await File.ReadAllTextAsync(path));

    private static async Task<JsonNode?> ReadYamlTextAsync(string yaml)
    {
        var parsed = await DeployTools.RunAsync(await DeployTools.RendererAsync(), ["--yaml-to-json", "-"], stdin: yaml);
        Assert.True(parsed.ExitCode == 0, parsed.Stderr);
        return Assert.Single(DeployTools.ParseDocuments(parsed.Stdout));
    }

    private static string Brief(string document) => document.Length > 600 ? document[..600] + "…" : document;
}
