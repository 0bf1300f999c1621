using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Providers.Google;

/// <summary>Google Cloud workload identity for Vertex AI and Memorystore, bound from the variables in docs/configuration.md.</summary>
public sealed record GcpOptions
{
    /// <summary>Vertex AI's default credential (<c>GCP_AUTH_MODE</c>): <c>workload</c> takes tokens from the GCE metadata server; null otherwise.</summary>
    public string? AuthMode { get; init; }

    /// <summary>The GCE metadata server, host[:port] (<c>GCE_METADATA_HOST</c>, default <c>metadata.google.internal</c>), for workload identity.</summary>
    public string MetadataHost { get; init; } = "metadata.google.internal";

    public static GcpOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new GcpOptions();
        return d with
        {
            AuthMode = NonEmpty(get("GCP_AUTH_MODE"))?.ToLowerInvariant(),
            MetadataHost = NonEmpty(get("GCE_METADATA_HOST")) ?? d.MetadataHost,
        };
    }
}
