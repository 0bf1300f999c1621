using System.Text.Json.Nodes;
using Xunit;

namespace Switchyard.Tests.Deploy;

/// <summary>The Go renderer against a small fixture chart whose <c>helm template</c> output is derived by hand.</summary>
public sealed class HelmRendererTests : IDisposable
{
    private const string Sample = "deploy/helm/tests/fixtures/sample";

    private readonly string _temp = Directory.CreateTempSubdirectory("switchyard-render-test-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    // What `helm template demo deploy/helm/tests/fixtures/sample --namespace ns1` prints: the templates in install
    // order (ConfigMap, Service, Deployment), NOTES.txt and the _helpers.tpl partial not printed, the absent
    // ServiceMonitor (no monitoring.coreos.com/v1) left out.
    private const string ExpectedSample = """
        ---
        # Source: sample/templates/configmap.yaml
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: demo-sample
          labels:
            app.kubernetes.io/name: sample
            app.kubernetes.io/instance: demo
            app.kubernetes.io/managed-by: Helm
            helm.sh/chart: sample-0.3.1
        data:
          greeting: "hello demo"
          kubeVersion: "v1.31.0"
          kubeMinor: "31"
          hasMonitoring: "false"
          appVersion: "1.2.3"
          missing: ""
          banner: "line one\nline two\n"
          revision: "1"
          template: sample/templates/configmap.yaml
        ---
        # Source: sample/templates/service.yaml
        apiVersion: v1
        kind: Service
        metadata:
          name: demo-sample
        spec:
          ports:
            - port: 8080
              targetPort: 8080
        ---
        # Source: sample/templates/deployment.yaml
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: demo-sample
          namespace: ns1
          labels:
            app.kubernetes.io/name: sample
            app.kubernetes.io/instance: demo
            app.kubernetes.io/managed-by: Helm
            helm.sh/chart: sample-0.3.1
        spec:
          replicas: 2
          selector:
            matchLabels:
              app.kubernetes.io/instance: demo
          template:
            metadata:
              labels:
                app.kubernetes.io/instance: demo
                tier: backend
            spec:
              containers:
                - name: app
                  image: "ghcr.io/example/app:1.2.3"
                  env:
                    - name: SECRET_NAME
                      value: "app-secret"
                  ports:
                    - containerPort: 8080
                  resources:
                    limits:
                      cpu: 500m
                      memory: 128Mi

        """;

    [Fact]
    public async Task The_sample_chart_renders_as_helm_template_prints_it()
    {
        var render = await HelmRenderer.RenderAsync(Sample, release: "demo", @namespace: "ns1");

        Assert.True(render.ExitCode == 0, render.Stderr);
        Assert.Equal(ExpectedSample.ReplaceLineEndings("\n"), render.Yaml);
        Assert.DoesNotContain("Thank you", render.Yaml);
    }

    [Fact]
    public async Task The_documents_are_parsed_for_assertions()
    {
        var render = await HelmRenderer.RenderAsync(Sample);

        Assert.Equal(["ConfigMap", "Service", "Deployment"], render.Documents.Select(d => (string?)d["kind"]));
        var deployment = render.Single("Deployment", "switchyard-sample");
        Assert.Equal(2, (int?)deployment["spec"]?["replicas"]);
        Assert.Equal("switchyard", (string?)deployment["metadata"]?["namespace"]);
        Assert.Equal(8080, (int?)deployment["spec"]?["template"]?["spec"]?["containers"]?[0]?["ports"]?[0]?["containerPort"]);
        Assert.Equal("hello switchyard", (string?)render.Single("ConfigMap")["data"]?["greeting"]);
        Assert.Single(render.OfKind("Service"));
        Assert.Empty(render.OfKind("ServiceMonitor"));
        Assert.Throws<InvalidOperationException>(() => render.Single("Deployment", "no-such-name"));
    }

    [Fact]
    public async Task A_missing_required_value_fails_with_its_message()
    {
        // --set secretName=null deletes the chart's default, as in Helm.
        var render = await HelmRenderer.RenderAsync(Sample, sets: new Dictionary<string, string> { ["secretName"] = "null" });

        Assert.NotEqual(0, render.ExitCode);
        Assert.Contains("execution error at (sample/templates/deployment.yaml:", render.Stderr);
        Assert.Contains("secretName is required", render.Stderr);
        Assert.Empty(render.Documents);
    }

    [Fact]
    public async Task Fail_stops_the_render_with_its_message()
    {
        var render = await HelmRenderer.RenderAsync(Sample, sets: new Dictionary<string, string> { ["mustFail"] = "true" });

        Assert.NotEqual(0, render.ExitCode);
        Assert.Contains("mustFail is set: refusing to render", render.Stderr);
        Assert.Contains("sample/templates/deployment.yaml", render.Stderr);
    }

    [Fact]
    public async Task Values_that_break_values_schema_json_are_refused()
    {
        var render = await HelmRenderer.RenderAsync(Sample, sets: new Dictionary<string, string>
        {
            ["replicaCount"] = "0",
            ["image.extra"] = "x",
            ["service.port"] = "http",
        });

        Assert.NotEqual(0, render.ExitCode);
        Assert.Contains("values don't meet the specifications of the schema(s)", render.Stderr);
        Assert.Contains("replicaCount: Must be greater than or equal to 1", render.Stderr);
        Assert.Contains("Additional property extra is not allowed", render.Stderr);
        Assert.Contains("service.port: Invalid type. Expected: integer, given: string", render.Stderr);
    }

    [Fact]
    public async Task Values_files_merge_in_order_and_set_overrides_them()
    {
        var first = Path.Combine(_temp, "first.yaml");
        var second = Path.Combine(_temp, "second.yaml");
        await File.WriteAllTextAsync(first, "replicaCount: 3\nimage:\n  tag: \"9.9\"\nservice:\n  port: 7000\n");
        // A later file wins key by key; null removes a default (here the tier pod label).
        await File.WriteAllTextAsync(second, "replicaCount: 4\npodLabels:\n  tier: null\n  team: gateway\n");

        var render = await HelmRenderer.RenderAsync(Sample, [first, second], new Dictionary<string, string>
        {
            ["service.port"] = "9090",
            ["resources.limits.cpu"] = "2",
        });

        Assert.True(render.ExitCode == 0, render.Stderr);
        var deployment = render.Single("Deployment");
        var spec = deployment["spec"]!;
        Assert.Equal(4, (int?)spec["replicas"]);
        var container = spec["template"]?["spec"]?["containers"]?[0]!;
        Assert.Equal("ghcr.io/example/app:9.9", (string?)container["image"]);
        Assert.Equal(9090, (int?)container["ports"]?[0]?["containerPort"]);
        Assert.Equal(2, (int?)container["resources"]?["limits"]?["cpu"]);
        Assert.Equal("128Mi", (string?)container["resources"]?["limits"]?["memory"]);
        var labels = spec["template"]!["metadata"]!["labels"]!.AsObject();
        Assert.Equal("gateway", (string?)labels["team"]);
        Assert.False(labels.ContainsKey("tier"));
    }

    [Fact]
    public async Task Capabilities_gate_templates_and_the_chart_kube_version()
    {
        var sets = new Dictionary<string, string> { ["monitoring.enabled"] = "true" };

        var without = await HelmRenderer.RenderAsync(Sample, sets: sets);
        var groupOnly = await HelmRenderer.RenderAsync(Sample, null, sets, "switchyard", "switchyard", ["monitoring.coreos.com/v1"]);
        var withKind = await HelmRenderer.RenderAsync(Sample, null, sets, "switchyard", "switchyard", ["monitoring.coreos.com/v1/ServiceMonitor"]);
        var oldCluster = await HelmRenderer.RenderAsync(Sample, null, null, "switchyard", "switchyard", null, kubeVersion: "1.24.3");

        Assert.Empty(without.OfKind("ServiceMonitor"));
        Assert.Empty(groupOnly.OfKind("ServiceMonitor"));
        Assert.Equal("true", (string?)groupOnly.Single("ConfigMap")["data"]?["hasMonitoring"]);
        var monitor = withKind.Single("ServiceMonitor");
        Assert.Equal("switchyard", (string?)monitor["spec"]?["selector"]?["matchLabels"]?["app.kubernetes.io/instance"]);
        Assert.Equal("ServiceMonitor", (string?)withKind.Documents[^1]["kind"]);
        Assert.NotEqual(0, oldCluster.ExitCode);
        Assert.Contains("chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.24.3", oldCluster.Stderr);
    }

    [Fact]
    public async Task A_template_that_renders_invalid_yaml_fails_naming_the_file()
    {
        var chart = CopySample();
        await File.WriteAllTextAsync(Path.Combine(chart, "templates", "broken.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n   labels: x\n");

        var render = await HelmRenderer.RenderAsync(chart);

        Assert.NotEqual(0, render.ExitCode);
        Assert.Contains("YAML parse error on sample/templates/broken.yaml", render.Stderr);
    }

    [Fact]
    public async Task Helm_functions_behave_as_in_helm()
    {
        var chart = CopySample();
        await File.WriteAllTextAsync(Path.Combine(chart, "templates", "functions.yaml"), """
            {{- define "sample.box" }}[{{ . }}]{{ end -}}
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: functions
            data:
              include: {{ include "sample.box" "x" | quote }}
              yaml: {{ toYaml (dict "b" (list 1 "two") "a" true) | quote }}
              json: {{ toJson .Values.podLabels | quote }}
              fromYaml: {{ (fromYaml "k: [v]").k | first | quote }}
              fromJson: {{ (fromJson "{\"n\": 5}").n | quote }}
              default: {{ .Values.absent | default "fallback" | quote }}
              lookup: {{ lookup "v1" "Secret" "ns" "name" | toJson | quote }}
              glob: {{ range $path, $_ := .Files.Glob "**.txt" }}{{ $path }}{{ end }}
              lines: {{ .Files.Lines "files/banner.txt" | len | quote }}
              tplInclude: {{ tpl "{{ include \"sample.fullname\" . }}" . | quote }}
              chartType: {{ .Chart.Type | quote }}
              basePath: {{ .Template.BasePath | quote }}
              service: {{ .Release.Service }}-{{ .Release.IsInstall }}-{{ .Release.IsUpgrade }}
            """);

        var render = await HelmRenderer.RenderAsync(chart);

        Assert.True(render.ExitCode == 0, render.Stderr);
        var data = render.Single("ConfigMap", "functions")["data"]!;
        Assert.Equal("[x]", (string?)data["include"]);
        Assert.Equal("a: true\nb:\n- 1\n- two", (string?)data["yaml"]);
        Assert.Equal("{\"tier\":\"backend\"}", (string?)data["json"]);
        Assert.Equal("v", (string?)data["fromYaml"]);
        Assert.Equal("5", (string?)data["fromJson"]);
        Assert.Equal("fallback", (string?)data["default"]);
        Assert.Equal("{}", (string?)data["lookup"]);
        Assert.Equal("files/banner.txt", (string?)data["glob"]);
        Assert.Equal("2", (string?)data["lines"]);
        Assert.Equal("switchyard-sample", (string?)data["tplInclude"]);
        Assert.Equal("application", (string?)data["chartType"]);
        Assert.Equal("sample/templates", (string?)data["basePath"]);
        Assert.Equal("Helm-true-false", (string?)data["service"]);
    }

    [Fact]
    public async Task Env_is_not_available_to_templates_as_in_helm()
    {
        var chart = CopySample();
        await File.WriteAllTextAsync(Path.Combine(chart, "templates", "env.yaml"), "home: {{ env \"HOME\" }}\n");

        var render = await HelmRenderer.RenderAsync(chart);

        Assert.NotEqual(0, render.ExitCode);
        Assert.Contains("function \"env\" not defined", render.Stderr);
    }

    private string CopySample()
    {
        var source = Path.Combine(Infrastructure.RepoPaths.Root, Sample);
        var target = Path.Combine(_temp, "sample");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        return target;
    }
}
