using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs.Stores;

/// <summary>Creates the <see cref="ILogObjectStore"/> for a <c>LOG_STORE</c> kind.</summary>
public static class LogObjectStores
{
    /// <summary>
    /// The store for <paramref name="kind"/> (<c>s3</c>, <c>s3_assume</c>, <c>s3_custom</c>, <c>wasabi</c>, <c>netapp</c>,
    /// <c>gcs</c>, <c>gcs_assume</c>, <c>azure</c>) with the settings in <paramref name="o"/>. Creating a store makes no
    /// network call (except application default credentials for gcs_assume without GCP_AUTH_MODE, which look for a
    /// key file and probe the metadata server); a wrong credential shows on the first write.
    /// </summary>
    /// <exception cref="FormatException">The kind is not an object store, or its settings were read for another kind.</exception>
    public static ILogObjectStore Create(LogObjectStoreOptions o, string kind, TimeProvider time, ILogger logger)
    {
        var k = kind.Trim().ToLowerInvariant();
        if (!LogObjectStoreOptions.Kinds.Contains(k))
        {
            throw new FormatException($"LOG_STORE={kind} is not an object store: use one of {string.Join(", ", LogObjectStoreOptions.Kinds)}.");
        }
        if (o.Kind != k)
        {
            throw new FormatException($"LOG_STORE={kind}, but the object-store settings were read for {o.Kind ?? "no object store"}: build them with LogObjectStoreOptions.FromEnvironment from the same environment.");
        }
        return k switch
        {
            "gcs_assume" => new GcsLogStore(o, logger),
            "azure" => new AzureBlobLogStore(o, logger),
            _ => new S3LogStore(o, time, logger),
        };
    }
}
