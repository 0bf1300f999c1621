using System.Net;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Apis.Services;
using Google.Apis.Storage.v1;
using Google.Cloud.Storage.V1;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs.Stores;

/// <summary>
/// Log objects in a GCS bucket through Google.Cloud.Storage.V1 and the JSON API (<c>gcs_assume</c>): OAuth tokens from
/// the GCE metadata server (<c>GCP_AUTH_MODE=workload</c>, GKE workload identity) or application default credentials.
/// </summary>
public sealed class GcsLogStore : ILogObjectStore
{
    /// <summary>The OAuth scope the store asks for: read and write objects, nothing else.</summary>
    public const string Scope = "https://www.googleapis.com/auth/devstorage.read_write";

    private readonly StorageClient _client;
    private readonly string _bucket;

    public GcsLogStore(LogObjectStoreOptions options, ILogger logger)
        : this(options, CreateCredential(options), logger)
    {
    }

    internal GcsLogStore(LogObjectStoreOptions options, GoogleCredential credential, ILogger logger)
    {
        if (options.Kind != "gcs_assume" || options.Bucket is null)
        {
            throw new ArgumentException($"GcsLogStore serves LOG_STORE=gcs_assume with a bucket, not {options.Kind}.", nameof(options));
        }
        _bucket = options.Bucket;
        var root = options.Endpoint is { } e ? e.ToString().TrimEnd('/') + "/" : "https://storage.googleapis.com/";
        var service = new StorageService(new BaseClientService.Initializer
        {
            HttpClientInitializer = credential,
            ApplicationName = "switchyard",
            BaseUri = root + "storage/v1/",
            // No retries of its own (the library's default retries 503s with backoff): the delivery queue retries and
            // trips its circuit breaker on repeated failures, and retries underneath it would hide an outage from it.
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
            GZipEnabled = false,
        });
        _client = new StorageClientImpl(service, encryptionKey: null);
        logger.LogInformation("Request logs go to GCS bucket {Bucket} at {Endpoint} ({Auth}), keys under '{Prefix}'",
            _bucket, root, options.GcpAuthMode == "workload" ? "metadata server " + options.GceMetadataHost : "application default credentials", options.KeyPrefix);
    }

    public string Kind => "gcs_assume";

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        using var stream = Stream(content);
        // The library sends the body's CRC32C and MD5 with the upload and GCS refuses a mismatch (the default validation
        // mode), so a record is either stored intact or the call fails and the queue tries again.
        await _client.UploadObjectAsync(_bucket, key, "application/json", stream, options: null, ct).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        try
        {
            await _client.DownloadObjectAsync(_bucket, key, buffer, options: null, ct).ConfigureAwait(false);
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound && !IsMissingBucket(ex))
        {
            return null;
        }
        return buffer.ToArray();
    }

    /// <summary>A missing bucket is also a 404, and must stay an error: it is a wrong setting, not a missing record.</summary>
    private static bool IsMissingBucket(GoogleApiException ex) =>
        (ex.Error?.Message ?? ex.Message).Contains("bucket does not exist", StringComparison.OrdinalIgnoreCase);

    private static MemoryStream Stream(ReadOnlyMemory<byte> content) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    /// <summary>
    /// Workload identity takes tokens from the metadata server at <c>GCE_METADATA_HOST</c>, passed explicitly rather
    /// than left to the library's process-environment lookup so the setting is read the way every other one is.
    /// Otherwise application default credentials: <c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud's file, then the metadata server.
    /// </summary>
    private static GoogleCredential CreateCredential(LogObjectStoreOptions o)
    {
        if (o.GcpAuthMode == "workload")
        {
            var compute = new ComputeCredential(new ComputeCredential.Initializer(
                $"http://{o.GceMetadataHost}/computeMetadata/v1/instance/service-accounts/default/token"));
            // Without an explicit universe domain the library asks the metadata server for it at its default address,
            // ignoring the host above; GKE and GCE are in googleapis.com.
            return GoogleCredential.FromComputeCredential(compute).CreateWithUniverseDomain("googleapis.com");
        }
        try
        {
            return GoogleCredential.GetApplicationDefault().CreateScoped(Scope);
        }
        catch (Exception ex) when (ex is InvalidOperationException or AggregateException)
        {
            var reason = (ex as AggregateException)?.InnerException?.Message ?? ex.Message;
            throw new FormatException("LOG_STORE=gcs_assume found no usable Google credentials: set GCP_AUTH_MODE=workload on GKE/GCE, or GOOGLE_APPLICATION_CREDENTIALS to a key file. " + reason, ex);
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
