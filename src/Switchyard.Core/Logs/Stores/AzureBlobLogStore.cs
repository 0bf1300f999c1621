using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Providers.Azure;

namespace Switchyard.Core.Logs.Stores;

/// <summary>
/// Log objects as block blobs in an Azure Storage container through Azure.Storage.Blobs (<c>azure</c>), signed with
/// the account key or authorised by a Microsoft Entra token (service principal, managed identity or AKS workload identity).
/// </summary>
/// <remarks>
/// The container must exist: creating it needs rights on the whole account, while writing logs needs only
/// <c>Storage Blob Data Contributor</c> on the container, and a gateway should hold no more than that.
/// </remarks>
public sealed class AzureBlobLogStore : ILogObjectStore
{
    private readonly BlobContainerClient _container;

    public AzureBlobLogStore(LogObjectStoreOptions options, ILogger logger)
    {
        if (options.Kind != "azure" || options.AzureAccount is null || options.Bucket is null)
        {
            throw new ArgumentException($"AzureBlobLogStore serves LOG_STORE=azure with an account and container, not {options.Kind}.", nameof(options));
        }
        var serviceUri = options.Endpoint ?? new Uri($"https://{options.AzureAccount}.blob.core.windows.net/");
        var clientOptions = new BlobClientOptions();
        // One retry at most: the delivery queue retries with backoff and trips its circuit breaker on repeated
        // failures, and the SDK's default of three retries underneath it would hide an outage from it.
        clientOptions.Retry.MaxRetries = 1;
        clientOptions.Retry.Mode = RetryMode.Fixed;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        var service = options.AzureAuthMode == "sharedkey"
            ? new BlobServiceClient(serviceUri, new StorageSharedKeyCredential(options.AzureAccount, options.AzureAccountKey), clientOptions)
            : new BlobServiceClient(serviceUri, CreateTokenCredential(options), clientOptions);
        _container = service.GetBlobContainerClient(options.Bucket);
        logger.LogInformation("Request logs go to Azure container {Container} at {Endpoint} ({Auth}), blobs under '{Prefix}'",
            options.Bucket, serviceUri, options.AzureAuthMode, options.KeyPrefix);
    }

    public string Kind => "azure";

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        // Put Blob overwrites by default (no conditions), which keeps a retried delivery to one object.
        await _container.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        }, ct).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        try
        {
            var result = await _container.GetBlobClient(key).DownloadContentAsync(ct).ConfigureAwait(false);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            // ContainerNotFound is also a 404, and must stay an error: it is a wrong setting, not a missing record.
            return null;
        }
    }

    internal static TokenCredential CreateTokenCredential(LogObjectStoreOptions o)
    {
        var authority = o.AzureAuthorityHost is { } a ? new Uri(a) : null;
        var privateAuthority = AzureTokenSource.IsPrivateAuthority(o.AzureAuthorityHost);
        return o.AzureAuthMode switch
        {
            "entra" => new ClientSecretCredential(o.AzureTenantId, o.AzureClientId, o.AzureClientSecret, WithAuthority(
                new ClientSecretCredentialOptions { DisableInstanceDiscovery = privateAuthority }, authority)),
            "managed" => new ManagedIdentityCredential(new ManagedIdentityCredentialOptions(
                o.AzureManagedClientId is { } id ? ManagedIdentityId.FromUserAssignedClientId(id) : ManagedIdentityId.SystemAssigned)),
            "workload" => new WorkloadIdentityCredential(WithAuthority(new WorkloadIdentityCredentialOptions
            {
                TenantId = o.AzureTenantId,
                ClientId = o.AzureClientId,
                TokenFilePath = o.AzureFederatedTokenFile,
                DisableInstanceDiscovery = privateAuthority,
            }, authority)),
            _ => throw new ArgumentException($"AZURE_AUTH_MODE={o.AzureAuthMode} has no token credential.", nameof(o)),
        };
    }

    private static T WithAuthority<T>(T options, Uri? authority) where T : TokenCredentialOptions
    {
        if (authority is not null)
        {
            options.AuthorityHost = authority;
        }
        return options;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
