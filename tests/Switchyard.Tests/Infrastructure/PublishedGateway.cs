using System.Diagnostics;
using Xunit;

namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// The shipped build, published once per test run as <c>deploy/docker/Dockerfile</c>'s build stage does (its
/// <c>RUN dotnet publish</c> line, read from the file). What differs: the output directory and a private artifacts path
/// (so the publish neither writes <c>/out</c> nor disturbs the test build's own <c>bin</c>/<c>obj</c>), and ReadyToRun,
/// left out unless <c>SWITCHYARD_TEST_READY_TO_RUN=true</c>.
/// </summary>
/// <remarks>
/// ReadyToRun only precompiles the same IL (self-contained and trimmed stay as shipped), and on the two shared cores of
/// the test machine it quadruples the publish: measured 338 s with it against 86 s without.
/// </remarks>
public static class PublishedGateway
{
    /// <summary>Tests of the published build run alone, after the parallel ones: publishing takes both cores for a while.</summary>
    public const string Collection = "Published build (runs alone)";

    private static readonly Lazy<Task<string>> Published = new(PublishAsync);

    /// <summary>The publish output directory (the Dockerfile's <c>-o</c> directory).</summary>
    public static Task<string> DirectoryAsync() => Published.Value;

    /// <summary>The executable the image's ENTRYPOINT names, in the publish output.</summary>
    public static async Task<string> ExecutableAsync()
    {
        var dockerfile = Dockerfile.Load();
        var entry = dockerfile.Entrypoint[0];
        var appDir = dockerfile.Copies.Single(c => c.FromStage is not null).Destination.TrimEnd('/');
        return Path.Combine(await DirectoryAsync(), Path.GetRelativePath(appDir, entry));
    }

    /// <summary>The publish command run (for the test output).</summary>
    public static string Command { get; private set; } = "";

    /// <summary>How long the one publish took (for the test output).</summary>
    public static TimeSpan PublishTime { get; private set; }

    /// <summary>Removes a per-run directory when the test process ends (tens of MB each run otherwise).</summary>
    internal static void DeleteOnExit(string directory) => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the OS's temp cleanup.
        }
    };

    private static async Task<string> PublishAsync()
    {
        var dockerfile = Dockerfile.Load();
        var output = Directory.CreateTempSubdirectory("switchyard-published-").FullName;
        DeleteOnExit(output);
        var artifacts = Directory.CreateTempSubdirectory("switchyard-published-artifacts-").FullName;
        var args = dockerfile.PublishCommand().ToList();
        var o = args.FindIndex(a => a is "-o" or "--output");
        args[o + 1] = output;
        args.AddRange(["--artifacts-path", artifacts, "-v", "quiet"]);
        if (!string.Equals(Environment.GetEnvironmentVariable("SWITCHYARD_TEST_READY_TO_RUN"), "true", StringComparison.OrdinalIgnoreCase))
        {
            args.Add("-p:PublishReadyToRun=false");
        }
        Command = "dotnet " + string.Join(' ', args);
        var start = new ProcessStartInfo("dotnet")
        {
            // The build stage's WORKDIR holds the repository's files at the same relative paths.
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        PublishTime = clock.Elapsed;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} failed: " + await stdout + await stderr);
        }
        try
        {
            Directory.Delete(artifacts, recursive: true);
        }
        catch (IOException)
        {
            // Only disk space; the output is what the tests use.
        }
        return output;
    }
}

/// <summary>The collection of the published-build tests, kept out of parallel runs.</summary>
[CollectionDefinition(PublishedGateway.Collection, DisableParallelization = true)]
public sealed class PublishedGatewayCollection;
