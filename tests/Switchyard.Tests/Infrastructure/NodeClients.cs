using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Infrastructure;

/// <summary>Runs a script of tests/node-clients (the real npm SDKs, installed by the test command) and collects its output.</summary>
public static class NodeClients
{
    public static string Directory { get; } = Path.Combine(RepoPaths.Root, "tests", "node-clients");

    /// <summary>Runs <paramref name="script"/> with <paramref name="environment"/>; its stdout and stderr go to the test output.</summary>
    /// <param name="requiredModule">A path under node_modules that must exist (the test command runs <c>npm ci</c> first).</param>
    /// <param name="stdin">Written to the script's standard input, which is then closed; null leaves stdin alone.</param>
    public static async Task<(string Stdout, int ExitCode)> RunAsync(string script, IReadOnlyDictionary<string, string> environment,
        TimeSpan timeout, ITestOutputHelper output, string requiredModule = "", string? stdin = null)
    {
        Assert.True(System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", requiredModule)),
            "node_modules missing: the test command runs `npm ci` in tests/node-clients first (see ./test.sh)");
        var start = new ProcessStartInfo("node", script)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        output.WriteLine(await stdout);
        output.WriteLine(await stderr);
        return (await stdout, process.ExitCode);
    }
}
