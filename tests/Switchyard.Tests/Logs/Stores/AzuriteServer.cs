using System.Globalization;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>
/// npm <c>azurite</c> 3.37.0 (the blob service only) on 127.0.0.1 with its well-known development account
/// (<see cref="Account"/>, <see cref="AccountKey"/>), which checks SharedKey signatures. Containers are created by the test.
/// Use it as an xunit class fixture, or create one per test for kill-the-store tests
/// (<see cref="NodeServerProcess.StopAsync"/> / <see cref="NodeServerProcess.StartAgainAsync"/> keep port and data).
/// </summary>
public sealed class AzuriteServer : NodeServerProcess
{
    /// <summary>Azurite's built-in development storage account.</summary>
    public const string Account = "devstoreaccount1";

    /// <summary>The published key of <see cref="Account"/> (documented by Microsoft for the storage emulators; not a secret).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public AzuriteServer()
        : base("azurite")
    {
    }

    protected override string? ClosedMessage => "Azurite Blob service successfully closed";

    /// <summary>The blob service endpoint of <see cref="Account"/> (path-style: the account is the first path segment).</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}/{Account}");

    protected override (string Script, IReadOnlyList<string> Arguments) Command() =>
        ("node_modules/azurite/dist/src/blob/main.js", ["--blobHost", "127.0.0.1", "--blobPort", Port.ToString(CultureInfo.InvariantCulture),
            "--location", DataDirectory, "--skipApiVersionCheck", "--disableTelemetry", "--silent"]);
}
