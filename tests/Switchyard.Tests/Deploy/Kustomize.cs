using System.Text.Json.Nodes;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Deploy;

/// <summary>Builds a kustomization with <c>kubectl kustomize</c> (preinstalled) and parses the result.</summary>
public static class Kustomize
{
    /// <summary>The documents <c>kubectl kustomize DIR</c> prints, in order; throws with kubectl's message if the build fails.</summary>
    /// <param name="directory">The kustomization directory; a relative path is taken from the repository root.</param>
    public static async Task<IReadOnlyList<JsonObject>> BuildAsync(string directory)
    {
        var dir = Path.IsPathRooted(directory) ? directory : Path.Combine(RepoPaths.Root, directory);
        ToolResult built;
        try
        {
            built = await DeployTools.RunAsync("kubectl", ["kustomize", dir]);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("kubectl is not installed", e);
        }
        if (built.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize {dir} failed (exit {built.ExitCode}):\n{built.Stderr}");
        }
        // The renderer reads YAML as Kubernetes does (YAML 1.1 via yaml.v2), so both tools' output is parsed alike.
        var parsed = await DeployTools.RunAsync(await DeployTools.RendererAsync(), ["--yaml-to-json", "-"], stdin: built.Stdout);
        if (parsed.ExitCode != 0)
        {
            throw new InvalidOperationException("kubectl kustomize printed YAML the renderer could not parse:\n" + parsed.Stderr);
        }
        return DeployTools.ParseDocuments(parsed.Stdout);
    }
}
