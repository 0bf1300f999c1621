using System.Diagnostics;
using System.Text.Json.Nodes;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Deploy;

/// <summary>The result of running one external tool (go, the renderer, node, kubectl).</summary>
internal sealed record ToolResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the external tools the deployment tests use, and builds the Go chart renderer once per test run.</summary>
internal static class DeployTools
{
    /// <summary>No tool run here should come near this; it only stops a hung process from hanging the test run.</summary>
    private static readonly TimeSpan Ceiling = TimeSpan.FromMinutes(10);

    public static string RendererSource { get; } = Path.Combine(RepoPaths.Root, "deploy", "helm", "tests", "renderer");

    private static readonly Lazy<Task<string>> Renderer = new(BuildRendererAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The path of the renderer binary, built on first use (GOPATH mode against Debian's Go packages).</summary>
    public static Task<string> RendererAsync() => Renderer.Value;

    private static async Task<string> BuildRendererAsync()
    {
        var outDir = Path.Combine(Path.GetTempPath(), "switchyard-helm-renderer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(outDir);
        var binary = Path.Combine(outDir, "renderer");
        var environment = new Dictionary<string, string>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = "/usr/share/gocode",
            ["GOFLAGS"] = "",
            ["CGO_ENABLED"] = "0",
            // Shared between runs so a second run does not recompile sprig; Go's build cache is safe to share.
            ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "switchyard-helm-renderer-gocache"),
        };
        ToolResult result;
        try
        {
            result = await RunAsync("go", ["build", "-o", binary, "."], RendererSource, environment);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("`go` is not installed: ./test.sh installs golang-go and the Debian Go packages the renderer needs", e);
        }
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"building the chart renderer failed (exit {result.ExitCode}); ./test.sh installs golang-go, golang-github-masterminds-sprig-dev, "
                + "golang-gopkg-yaml.v3-dev, golang-github-xeipuuv-gojsonschema-dev and golang-github-burntsushi-toml-dev:\n" + result.Stderr);
        }
        return binary;
    }

    public static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, string? stdin = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var cancel = new CancellationTokenSource(Ceiling);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {Ceiling}");
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Parses a JSON array of objects (the renderer's --output json and --yaml-to-json).</summary>
    public static IReadOnlyList<JsonObject> ParseDocuments(string json)
    {
        var array = JsonNode.Parse(json) as JsonArray ?? throw new InvalidOperationException("expected a JSON array of documents, got: " + json);
        return array.Select(node => node as JsonObject ?? throw new InvalidOperationException("a document is not a JSON object: " + node?.ToJsonString()))
            .ToList();
    }
}
