using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.RuntimeDependencies;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SecurityToken;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs.Stores;

/// <summary>
/// Log objects in an S3 bucket through AWSSDK.S3: AWS S3 with static keys (<c>s3</c>) or a role (<c>s3_assume</c>),
/// S3-compatible stores (<c>s3_custom</c>, <c>netapp</c>, <c>wasabi</c>) and GCS through its S3 interoperability API
/// with HMAC keys (<c>gcs</c>).
/// </summary>
public sealed class S3LogStore : ILogObjectStore
{
    private readonly AmazonS3Client _client;
    private readonly LogObjectStoreOptions _options;
    private readonly string _bucket;
    private readonly IDisposable? _credentials;

    public S3LogStore(LogObjectStoreOptions options, TimeProvider time, ILogger logger)
    {
        if (!options.IsS3Api || options.Bucket is null)
        {
            throw new ArgumentException($"S3LogStore serves the S3-API kinds with a bucket, not LOG_STORE={options.Kind}.", nameof(options));
        }
        _options = options;
        _bucket = options.Bucket;
        Config = CreateConfig(options);
        var credentials = CreateCredentials(options, time);
        _credentials = credentials as IDisposable;
        _client = credentials is null ? new AmazonS3Client(Config) : new AmazonS3Client(credentials, Config);
        logger.LogInformation("Request logs go to {Kind} bucket {Bucket} at {Endpoint}, keys under '{Prefix}'",
            options.Kind, _bucket, Config.ServiceURL ?? Config.RegionEndpoint?.SystemName, options.KeyPrefix);
    }

    public string Kind => _options.Kind!;

    /// <summary>The client settings in use (for tests and diagnostics).</summary>
    internal AmazonS3Config Config { get; }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var request = PutRequest(key, content);
        try
        {
            await _client.PutObjectAsync(request, ct).ConfigureAwait(false);
        }
        finally
        {
            request.InputStream.Dispose();
        }
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        var request = new GetObjectRequest { BucketName = _bucket, Key = key };
        if (_options.CustomerKey is not null)
        {
            request.ServerSideEncryptionCustomerMethod = ServerSideEncryptionCustomerMethod.AES256;
            request.ServerSideEncryptionCustomerProvidedKey = _options.CustomerKey;
            request.ServerSideEncryptionCustomerProvidedKeyMD5 = _options.CustomerKeyMd5;
        }
        try
        {
            using var response = await _client.GetObjectAsync(request, ct).ConfigureAwait(false);
            using var buffer = new MemoryStream(response.ContentLength is > 0 and < int.MaxValue ? (int)response.ContentLength : 0);
            await response.ResponseStream.CopyToAsync(buffer, ct).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchKey" || (ex.StatusCode == HttpStatusCode.NotFound && string.IsNullOrEmpty(ex.ErrorCode)))
        {
            // NoSuchBucket is also a 404, and must stay an error: it is a wrong setting, not a missing record.
            return null;
        }
    }

    /// <summary>The PUT for one object: JSON, unchunked, with the encryption and Object Lock headers the settings ask for.</summary>
    internal PutObjectRequest PutRequest(string key, ReadOnlyMemory<byte> content)
    {
        var stream = MemoryMarshal.TryGetArray(content, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = stream,
            AutoCloseStream = true,
            ContentType = "application/json",
            // The body is a small array already in memory: aws-chunked framing buys nothing, and s3rver, MinIO-style
            // stores and GCS's XML API store the chunk framing as the object or reject it.
            UseChunkEncoding = false,
        };
        if (_options.ObjectLockRetention)
        {
            // S3 refuses a PUT into a bucket with Object Lock (default retention) unless it carries Content-MD5 or an
            // x-amz-checksum-* header. The SDK only adds the latter with flexible checksums on, which the S3-compatible
            // kinds turn off, so Content-MD5 is the one that works for every kind. Retention itself is the bucket's default.
#pragma warning disable CA5351 // Content-MD5 is what S3 defines for this; an integrity check, not a security boundary.
            request.MD5Digest = Convert.ToBase64String(MD5.HashData(content.Span));
#pragma warning restore CA5351
        }
        if (_options.ServerSideEncryption is { } sse)
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(sse);
            if (_options.KmsKeyId is { } keyId)
            {
                request.ServerSideEncryptionKeyManagementServiceKeyId = keyId;
            }
            if (_options.KmsBucketKeyEnabled is { } bucketKey)
            {
                request.BucketKeyEnabled = bucketKey;
            }
            if (_options.KmsEncryptionContext is { } context)
            {
                request.ServerSideEncryptionKeyManagementServiceEncryptionContext = context;
            }
        }
        if (_options.CustomerKey is not null)
        {
            request.ServerSideEncryptionCustomerMethod = ServerSideEncryptionCustomerMethod.AES256;
            request.ServerSideEncryptionCustomerProvidedKey = _options.CustomerKey;
            request.ServerSideEncryptionCustomerProvidedKeyMD5 = _options.CustomerKeyMd5;
        }
        return request;
    }

    internal static AmazonS3Config CreateConfig(LogObjectStoreOptions o)
    {
        var region = o.Region ?? "us-east-1";
        var aws = o.Kind is "s3" or "s3_assume";
        var config = new AmazonS3Config
        {
            // One retry at most: the delivery queue retries with backoff and trips its circuit breaker on repeated
            // failures, and SDK retries underneath it would multiply its attempts and hide an outage from it.
            MaxErrorRetry = 1,
            RetryMode = RequestRetryMode.Standard,
            // AWS validates the SDK's default CRC checksums; S3-compatible stores (GCS's XML API, older MinIO, Ceph,
            // s3rver) reject or mis-store them, so those kinds send checksums only where an operation requires one.
            RequestChecksumCalculation = aws ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = aws ? ResponseChecksumValidation.WHEN_SUPPORTED : ResponseChecksumValidation.WHEN_REQUIRED,
        };
        var endpoint = o.Endpoint?.ToString() ?? o.Kind switch
        {
            "gcs" => "https://storage.googleapis.com",
            "wasabi" => $"https://s3.{region}.wasabisys.com",
            _ when o.AwsEndpointDomain is { } domain => $"https://s3.{region}.{domain}",
            _ => null,
        };
        if (endpoint is null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        else
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region;
            // Bucket in the path: S3-compatible stores and emulators rarely have wildcard DNS for bucket subdomains.
            config.ForcePathStyle = !aws || o.Endpoint is not null;
        }
        return config;
    }

    /// <summary>The credentials for the kind, or null for the SDK's default chain (environment, web identity, EKS Pod Identity, ECS, EC2 IMDS).</summary>
    private static AWSCredentials? CreateCredentials(LogObjectStoreOptions o, TimeProvider time)
    {
        AWSCredentials? keys = o.AccessKey is { } id ? new BasicAWSCredentials(id, o.SecretKey) : null;
        if (o.RoleArn is { } role)
        {
            var region = o.Region ?? "us-east-1";
            var stsConfig = new AmazonSecurityTokenServiceConfig { MaxErrorRetry = 1 };
            var stsEndpoint = o.StsEndpoint?.ToString() ?? (o.AwsEndpointDomain is { } domain ? $"https://sts.{region}.{domain}" : null);
            if (stsEndpoint is null)
            {
                stsConfig.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            }
            else
            {
                stsConfig.ServiceURL = stsEndpoint;
                stsConfig.AuthenticationRegion = region;
            }
            if (keys is null)
            {
                RegisterWebIdentityStsClient(region);
            }
            var sts = keys is null ? new AmazonSecurityTokenServiceClient(stsConfig) : new AmazonSecurityTokenServiceClient(keys, stsConfig);
            return new StsAssumedRoleCredentials(sts, role, o.ExternalId, time);
        }
        if (keys is null)
        {
            RegisterWebIdentityStsClient(o.Region ?? "us-east-1");
        }
        return keys;
    }

    private static int _stsRegistered;

    /// <summary>
    /// IRSA (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN) in the default chain calls STS through a client the SDK would
    /// otherwise create by reflection, which a trimmed build cannot do; registering a factory is the SDK's own remedy.
    /// Web identity calls are unsigned, so the client needs no credentials.
    /// </summary>
    private static void RegisterWebIdentityStsClient(string fallbackRegion)
    {
        if (Interlocked.Exchange(ref _stsRegistered, 1) == 1)
        {
            return;
        }
        GlobalRuntimeDependencyRegistry.Instance.RegisterSecurityTokenServiceClient(context =>
            new AmazonSecurityTokenServiceClient(new AnonymousAWSCredentials(), new AmazonSecurityTokenServiceConfig
            {
                RegionEndpoint = context.SecurityTokenServiceClientContextData?.Region ?? RegionEndpoint.GetBySystemName(fallbackRegion),
            }));
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _credentials?.Dispose();
        return ValueTask.CompletedTask;
    }
}
