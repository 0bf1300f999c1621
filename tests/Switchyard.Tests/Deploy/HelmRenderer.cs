using System.Text.Json.Nodes;

namespace Switchyard.Tests.Deploy;

/// <summary>
/// Renders a Helm chart as <c>helm template</c> would, with the Go renderer in deploy/helm/tests/renderer (Go's
/// text/template and sprig, Helm's own engine parts; no helm binary is available here). See deploy/helm/tests/README.md.
/// </summary>
public static class HelmRenderer
{
    /// <summary>
    /// Builds the Go renderer once per test run, then renders <paramref name="chartDir"/>. A failed render (a
    /// <c>required</c> or <c>fail</c>, a schema violation, invalid YAML) is not an exception: see <see cref="ChartRender.ExitCode"/>
    /// and <see cref="ChartRender.Stderr"/>.
    /// </summary>
    /// <param name="chartDir">The chart directory; relative paths are taken from the repository root.</param>
    /// <param name="valuesFiles">Passed as <c>-f</c>, in order (later files win); relative paths from the repository root.</param>
    /// <param name="sets">Passed as <c>--set key=value</c> (Helm's syntax: dotted paths, <c>a[0].b</c>, <c>{x,y}</c> lists; a comma in a value needs <c>\,</c>).</param>
    public static async Task<ChartRender> RenderAsync(string chartDir, IReadOnlyList<string>? valuesFiles = null,
        IReadOnlyDictionary<string, string>? sets = null, string release = "switchyard", string @namespace = "switchyard")
        => await RenderAsync(chartDir, valuesFiles, sets, release, @namespace, apiVersions: null);

    /// <summary>As the other overload, and with extra <c>--api-versions</c> entries ("group/version" or "group/version/Kind").</summary>
    public static async Task<ChartRender> RenderAsync(string chartDir, IReadOnlyList<string>? valuesFiles,
        IReadOnlyDictionary<string, string>? sets, string release, string @namespace, IReadOnlyList<string>? apiVersions,
        string? kubeVersion = null)
    {
        var binary = await DeployTools.RendererAsync();
        var arguments = new List<string> { "--chart", FromRoot(chartDir), "--release", release, "--namespace", @namespace };
        foreach (var file in valuesFiles ?? [])
        {
            arguments.AddRange(["-f", FromRoot(file)]);
        }
        foreach (var (key, value) in sets ?? new Dictionary<string, string>())
        {
            arguments.AddRange(["--set", key + "=" + value]);
        }
        foreach (var apiVersion in apiVersions ?? [])
        {
            arguments.AddRange(["--api-versions", apiVersion]);
        }
        if (kubeVersion is not null)
        {
            arguments.AddRange(["--kube-version", kubeVersion]);
        }
        var yaml = await DeployTools.RunAsync(binary, arguments);
        IReadOnlyList<JsonObject> documents = [];
        if (yaml.ExitCode == 0)
        {
            var json = await DeployTools.RunAsync(binary, [.. arguments, "--output", "json"]);
            if (json.ExitCode != 0)
            {
                throw new InvalidOperationException("the renderer rendered YAML but failed on --output json:\n" + json.Stderr);
            }
            documents = DeployTools.ParseDocuments(json.Stdout);
        }
        return new ChartRender(yaml.ExitCode, yaml.Stdout, yaml.Stderr, documents);
    }

    private static string FromRoot(string path) => Path.IsPathRooted(path) ? path : Path.Combine(Infrastructure.RepoPaths.Root, path);
}

/// <summary>One rendering of a chart: the <c>helm template</c>-style YAML and its documents as JSON.</summary>
public sealed class ChartRender
{
    internal ChartRender(int exitCode, string yaml, string stderr, IReadOnlyList<JsonObject> documents)
    {
        ExitCode = exitCode;
        Yaml = yaml;
        Stderr = stderr;
        Documents = documents;
    }

    /// <summary>0 when the chart rendered; 1 for any error (the message is in <see cref="Stderr"/>, starting "Error: ").</summary>
    public int ExitCode { get; }

    /// <summary>The output as <c>helm template</c> prints it: "---\n# Source: chart/templates/file\n" before each document.</summary>
    public string Yaml { get; }

    /// <summary>The renderer's error output (errors, warnings).</summary>
    public string Stderr { get; }

    /// <summary>The non-empty documents, in output order; empty when the render failed.</summary>
    public IReadOnlyList<JsonObject> Documents { get; }

    /// <summary>The documents of <paramref name="kind"/> (exact, case-sensitive).</summary>
    public IEnumerable<JsonObject> OfKind(string kind) => Documents.Where(d => (string?)d["kind"] == kind);

    /// <summary>The one document of <paramref name="kind"/> whose metadata.name contains <paramref name="nameContains"/>; throws unless exactly one.</summary>
    public JsonObject Single(string kind, string? nameContains = null)
    {
        var matches = OfKind(kind).Where(d => nameContains is null || (((string?)d["metadata"]?["name"]) ?? "").Contains(nameContains, StringComparison.Ordinal)).ToList();
        if (matches.Count == 1)
        {
            return matches[0];
        }
        var all = string.Join(", ", Documents.Select(d => $"{(string?)d["kind"]}/{(string?)d["metadata"]?["name"]}"));
        throw new InvalidOperationException(
            $"expected exactly one {kind}{(nameContains is null ? "" : $" named *{nameContains}*")}, found {matches.Count}; the documents are: {all}"
            + (ExitCode != 0 ? "\nthe render failed: " + Stderr : ""));
    }
}
