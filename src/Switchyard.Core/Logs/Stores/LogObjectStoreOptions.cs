using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Logs.Stores;

/// <summary>The layout of object keys (<c>LOG_STORE_FILE_PATH_FORMAT</c>); see <see cref="LogObjectPath"/>.</summary>
public enum LogObjectPathFormat
{
    /// <summary><c>30/&lt;organisation-id&gt;/&lt;log-id&gt;.json</c>.</summary>
    V1,

    /// <summary><c>30/&lt;organisation-id&gt;/&lt;workspace-slug&gt;/&lt;yyyy&gt;/&lt;MM&gt;/&lt;dd&gt;/&lt;HH&gt;/&lt;log-id&gt;.json</c> (UTC).</summary>
    V2,
}

/// <summary>
/// The object store that request logs go to (S3 and S3-compatible, GCS, Azure Blob), bound from Portkey's
/// <c>LOG_STORE_*</c>, <c>AWS_*</c>, <c>GCP_*</c> and <c>AZURE_*</c> variables; docs/log-stores.md lists them all.
/// </summary>
public sealed record LogObjectStoreOptions
{
    /// <summary>The <c>LOG_STORE</c> values that name an object store.</summary>
    public static readonly FrozenSet<string> Kinds =
        new[] { "s3", "s3_assume", "s3_custom", "wasabi", "netapp", "gcs", "gcs_assume", "azure" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The organisation segment of every key when <c>LOG_STORE_ORGANISATION_ID</c> is unset (the nil UUID).</summary>
    public const string DefaultOrganisationId = "00000000-0000-0000-0000-000000000000";

    /// <summary>The workspace segment of v2 keys when <c>LOG_STORE_WORKSPACE_SLUG</c> is unset.</summary>
    public const string DefaultWorkspaceSlug = "default";

    /// <summary>The object-store kind (<c>LOG_STORE</c>, lower case; <c>S3_CUSTOM</c> is read as <c>s3_custom</c>), or null when logs do not go to an object store.</summary>
    public string? Kind { get; init; }

    /// <summary><c>LOG_STORE_REGION</c>: the bucket's region (S3 kinds, wasabi); <c>auto</c> for gcs and <c>us-east-1</c> for s3_custom/netapp when unset.</summary>
    public string? Region { get; init; }

    /// <summary><c>LOG_STORE_ACCESS_KEY</c>: AWS access key id, or the HMAC access id for <c>gcs</c>.</summary>
    public string? AccessKey { get; init; }

    /// <summary><c>LOG_STORE_SECRET_KEY</c>: the secret that goes with <see cref="AccessKey"/>.</summary>
    public string? SecretKey { get; init; }

    /// <summary>The bucket (or, for azure, the container) the objects go to: <c>LOG_STORE_GENERATIONS_BUCKET</c>, the first path segment of <c>LOG_STORE_BASEPATH</c> for s3_custom/netapp, or <c>AZURE_STORAGE_CONTAINER</c>.</summary>
    public string? Bucket { get; init; }

    /// <summary>Prefix of every key inside the bucket, empty or ending in <c>/</c>: <c>LOG_STORE_BASEPATH</c>, or for s3_custom/netapp the path after the bucket in it.</summary>
    public string KeyPrefix { get; init; } = "";

    /// <summary>
    /// The service endpoint: for s3_custom/netapp the scheme, host and port of <c>LOG_STORE_BASEPATH</c>; otherwise
    /// <c>LOG_STORE_ENDPOINT</c> (a VPC or Private Service Connect endpoint, an emulator), else null for the cloud's own.
    /// </summary>
    public Uri? Endpoint { get; init; }

    /// <summary><c>LOG_STORE_AWS_ROLE_ARN</c>: a role to assume (STS AssumeRole) with the static keys or the default credential chain.</summary>
    public string? RoleArn { get; init; }

    /// <summary><c>LOG_STORE_AWS_EXTERNAL_ID</c>: the <c>sts:ExternalId</c> the role's trust policy asks for.</summary>
    public string? ExternalId { get; init; }

    /// <summary><c>AWS_ENDPOINT_URL_STS</c>: the STS endpoint for <see cref="RoleArn"/> (a VPC endpoint); else <c>https://sts.&lt;region&gt;.&lt;domain&gt;</c>.</summary>
    public Uri? StsEndpoint { get; init; }

    /// <summary><c>AWS_ENDPOINT_DOMAIN</c>: replaces <c>amazonaws.com</c> in the S3 and STS endpoints (GovCloud, China, private partitions).</summary>
    public string? AwsEndpointDomain { get; init; }

    /// <summary><c>AWS_IMDS_V1</c>: the instance metadata service only speaks IMDSv1 (the AWS SDK falls back to it by itself).</summary>
    public bool ImdsV1 { get; init; }

    /// <summary><c>LOG_STORE_OBJECT_LOCK_RETENTION_ENABLED</c>: the bucket has S3 Object Lock, so every PUT carries <c>Content-MD5</c>.</summary>
    public bool ObjectLockRetention { get; init; }

    /// <summary><c>SSE_ENCRYPTION_TYPE</c>: <c>AES256</c>, <c>aws:kms</c> or <c>aws:kms:dsse</c> (S3 kinds only).</summary>
    public string? ServerSideEncryption { get; init; }

    /// <summary><c>KMS_KEY_ID</c>: the KMS key for <c>aws:kms</c>/<c>aws:kms:dsse</c>; the bucket's default key when unset.</summary>
    public string? KmsKeyId { get; init; }

    /// <summary><c>KMS_BUCKET_KEY_ENABLED</c>: ask for an S3 Bucket Key with SSE-KMS (null: the bucket's setting).</summary>
    public bool? KmsBucketKeyEnabled { get; init; }

    /// <summary><c>KMS_ENCRYPTION_CONTEXT</c> as S3 wants it on the wire: base64 of a JSON object of strings.</summary>
    public string? KmsEncryptionContext { get; init; }

    /// <summary><c>KMS_ENCRYPTION_ALGORITHM</c> with <c>KMS_ENCRYPTION_CUSTOMER_KEY</c>: SSE-C (a customer-provided key); only <c>AES256</c>.</summary>
    public string? CustomerKeyAlgorithm { get; init; }

    /// <summary><c>KMS_ENCRYPTION_CUSTOMER_KEY</c>: base64 of the 256-bit SSE-C key, sent on every PUT and GET.</summary>
    public string? CustomerKey { get; init; }

    /// <summary><c>KMS_ENCRYPTION_CUSTOMER_KEY_MD5</c>: base64 MD5 of the SSE-C key (computed when unset).</summary>
    public string? CustomerKeyMd5 { get; init; }

    /// <summary><c>GCP_AUTH_MODE</c> for gcs_assume: <c>workload</c> (tokens from the GCE metadata server) or null (application default credentials).</summary>
    public string? GcpAuthMode { get; init; }

    /// <summary><c>GCE_METADATA_HOST</c>: host[:port] of the GCE metadata server (default <c>metadata.google.internal</c>).</summary>
    public string GceMetadataHost { get; init; } = "metadata.google.internal";

    /// <summary><c>AZURE_STORAGE_ACCOUNT</c>.</summary>
    public string? AzureAccount { get; init; }

    /// <summary><c>AZURE_STORAGE_KEY</c>: the account key for shared-key auth (base64).</summary>
    public string? AzureAccountKey { get; init; }

    /// <summary><c>AZURE_AUTH_MODE</c>: <c>sharedkey</c> (unset), <c>managed</c>, <c>workload</c> or <c>entra</c>.</summary>
    public string AzureAuthMode { get; init; } = "sharedkey";

    /// <summary><c>AZURE_MANAGED_CLIENT_ID</c>: a user-assigned managed identity (the system-assigned one when unset).</summary>
    public string? AzureManagedClientId { get; init; }

    /// <summary><c>AZURE_ENTRA_CLIENT_ID</c> (entra), else <c>AZURE_CLIENT_ID</c> (workload, set by the AKS webhook).</summary>
    public string? AzureClientId { get; init; }

    /// <summary><c>AZURE_ENTRA_CLIENT_SECRET</c> (entra).</summary>
    public string? AzureClientSecret { get; init; }

    /// <summary><c>AZURE_ENTRA_TENANT_ID</c>, else <c>AZURE_TENANT_ID</c>.</summary>
    public string? AzureTenantId { get; init; }

    /// <summary><c>AZURE_FEDERATED_TOKEN_FILE</c> (workload, set by the AKS webhook).</summary>
    public string? AzureFederatedTokenFile { get; init; }

    /// <summary><c>AZURE_AUTHORITY_HOST</c>: the Entra authority for sovereign clouds (default Azure public cloud).</summary>
    public string? AzureAuthorityHost { get; init; }

    /// <summary><c>LOG_STORE_FILE_PATH_FORMAT</c>: <c>v1</c> (default) or <c>v2</c>.</summary>
    public LogObjectPathFormat PathFormat { get; init; } = LogObjectPathFormat.V1;

    /// <summary><c>LOG_STORE_ORGANISATION_ID</c>: the organisation segment of every key.</summary>
    public string OrganisationId { get; init; } = DefaultOrganisationId;

    /// <summary><c>LOG_STORE_WORKSPACE_SLUG</c>: the workspace segment of v2 keys.</summary>
    public string WorkspaceSlug { get; init; } = DefaultWorkspaceSlug;

    /// <summary>True for the kinds that speak the S3 API (everything but gcs_assume and azure).</summary>
    public bool IsS3Api => Kind is "s3" or "s3_assume" or "s3_custom" or "wasabi" or "netapp" or "gcs";

    public static LogObjectStoreOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new LogObjectStoreOptions();
        var raw = NonEmpty(get("LOG_STORE"));
        var kind = raw?.ToLowerInvariant();
        var common = d with
        {
            PathFormat = NonEmpty(get("LOG_STORE_FILE_PATH_FORMAT"))?.ToLowerInvariant() switch
            {
                null or "v1" => LogObjectPathFormat.V1,
                "v2" => LogObjectPathFormat.V2,
                var other => throw new FormatException($"LOG_STORE_FILE_PATH_FORMAT={other} is not valid: use v1 (30/<organisation>/<log-id>.json) or v2 (time-hierarchical)."),
            },
            OrganisationId = Segment(get, "LOG_STORE_ORGANISATION_ID", DefaultOrganisationId),
            WorkspaceSlug = Segment(get, "LOG_STORE_WORKSPACE_SLUG", DefaultWorkspaceSlug),
        };
        if (kind is null || !Kinds.Contains(kind))
        {
            // local, none or a value LogStoreOptions refuses: nothing below applies.
            return common;
        }

        string? Value(string name) => NonEmpty(get(name));
        string Required(string name, string why) =>
            Value(name) ?? throw new FormatException($"LOG_STORE={raw} needs {name} ({why}).");

        var o = common with
        {
            Kind = kind,
            Region = Value("LOG_STORE_REGION"),
            AccessKey = Value("LOG_STORE_ACCESS_KEY"),
            SecretKey = get("LOG_STORE_SECRET_KEY") is { Length: > 0 } secret ? secret : null,
            ImdsV1 = Bool(get, "AWS_IMDS_V1"),
            ObjectLockRetention = Bool(get, "LOG_STORE_OBJECT_LOCK_RETENTION_ENABLED"),
        };
        if ((o.AccessKey is null) != (o.SecretKey is null))
        {
            throw new FormatException(o.AccessKey is null
                ? $"LOG_STORE={raw}: LOG_STORE_SECRET_KEY is set but LOG_STORE_ACCESS_KEY is not; set both or neither."
                : $"LOG_STORE={raw}: LOG_STORE_ACCESS_KEY is set but LOG_STORE_SECRET_KEY is not; set both or neither.");
        }

        var basePath = Value("LOG_STORE_BASEPATH");
        var endpoint = HttpUri(get, "LOG_STORE_ENDPOINT");
        switch (kind)
        {
            case "s3_custom" or "netapp":
            {
                var full = Value("LOG_STORE_BASEPATH")
                    ?? throw new FormatException($"LOG_STORE={raw} needs LOG_STORE_BASEPATH: the S3 endpoint including the bucket, e.g. http://minio:9000/logs.");
                if (!Uri.TryCreate(full, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query))
                {
                    throw new FormatException($"LOG_STORE_BASEPATH={full} is not valid for LOG_STORE={raw}: expected http(s)://host[:port]/bucket[/prefix], e.g. http://minio:9000/logs.");
                }
                var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
                if (segments.Length == 0)
                {
                    throw new FormatException($"LOG_STORE_BASEPATH={full} names no bucket: LOG_STORE={raw} wants the endpoint including the bucket, e.g. {uri.GetLeftPart(UriPartial.Authority)}/logs.");
                }
                RequireKeys(o, raw!);
                if (endpoint is not null)
                {
                    throw new FormatException($"LOG_STORE_ENDPOINT does not apply to LOG_STORE={raw}: its endpoint is LOG_STORE_BASEPATH (including the bucket), e.g. {uri.GetLeftPart(UriPartial.Authority)}/logs.");
                }
                o = o with
                {
                    Endpoint = new Uri(uri.GetLeftPart(UriPartial.Authority)),
                    Bucket = Uri.UnescapeDataString(segments[0]),
                    KeyPrefix = Prefix(string.Join('/', segments.Skip(1).Select(Uri.UnescapeDataString))),
                    Region = o.Region ?? "us-east-1",
                };
                break;
            }
            case "s3" or "wasabi":
                o = o with
                {
                    Region = Required("LOG_STORE_REGION", "the bucket's region, e.g. us-east-1"),
                    Bucket = Required("LOG_STORE_GENERATIONS_BUCKET", "the bucket the logs go to"),
                    KeyPrefix = Prefix(basePath),
                    Endpoint = endpoint,
                };
                RequireKeys(o, raw!);
                break;
            case "s3_assume":
                o = o with
                {
                    Region = Required("LOG_STORE_REGION", "the bucket's region, e.g. us-east-1"),
                    Bucket = Required("LOG_STORE_GENERATIONS_BUCKET", "the bucket the logs go to"),
                    KeyPrefix = Prefix(basePath),
                    Endpoint = endpoint,
                };
                if (o.AccessKey is not null && Value("LOG_STORE_AWS_ROLE_ARN") is null)
                {
                    throw new FormatException($"LOG_STORE={raw} with LOG_STORE_ACCESS_KEY needs LOG_STORE_AWS_ROLE_ARN (the role those keys assume); for plain static keys use LOG_STORE=s3.");
                }
                break;
            case "gcs":
                o = o with
                {
                    // GCS's XML API takes any region in a SigV4 scope; "auto" is what Google's own samples use.
                    Region = o.Region ?? "auto",
                    Bucket = Required("LOG_STORE_GENERATIONS_BUCKET", "the bucket the logs go to"),
                    KeyPrefix = Prefix(basePath),
                    Endpoint = endpoint,
                };
                if (o.AccessKey is null)
                {
                    throw new FormatException($"LOG_STORE={raw} needs LOG_STORE_ACCESS_KEY and LOG_STORE_SECRET_KEY (a GCS HMAC key's access id and secret); for workload identity use LOG_STORE=gcs_assume.");
                }
                break;
            case "gcs_assume":
            {
                var mode = Value("GCP_AUTH_MODE")?.ToLowerInvariant();
                if (mode is not (null or "workload"))
                {
                    throw new FormatException($"GCP_AUTH_MODE={mode} is not valid for LOG_STORE={raw}: use workload (tokens from the GCE metadata server) or leave it unset (application default credentials).");
                }
                o = o with
                {
                    Bucket = Required("LOG_STORE_GENERATIONS_BUCKET", "the bucket the logs go to"),
                    KeyPrefix = Prefix(basePath),
                    Endpoint = endpoint,
                    GcpAuthMode = mode,
                    GceMetadataHost = Value("GCE_METADATA_HOST") ?? d.GceMetadataHost,
                };
                break;
            }
            case "azure":
                o = Azure(o, get, raw!) with { KeyPrefix = Prefix(basePath), Endpoint = endpoint };
                break;
        }

        if (o.Kind is "s3" or "s3_assume")
        {
            o = o with
            {
                RoleArn = Value("LOG_STORE_AWS_ROLE_ARN"),
                ExternalId = Value("LOG_STORE_AWS_EXTERNAL_ID"),
                AwsEndpointDomain = Value("AWS_ENDPOINT_DOMAIN")?.Trim('.'),
                StsEndpoint = HttpUri(get, "AWS_ENDPOINT_URL_STS"),
            };
            if (o.RoleArn is { } arn && !arn.StartsWith("arn:", StringComparison.Ordinal))
            {
                throw new FormatException($"LOG_STORE_AWS_ROLE_ARN={arn} is not a role ARN: expected arn:aws:iam::<account>:role/<name>.");
            }
            if (o.ExternalId is not null && o.RoleArn is null)
            {
                throw new FormatException("LOG_STORE_AWS_EXTERNAL_ID is set but LOG_STORE_AWS_ROLE_ARN is not: the external id goes with the role to assume.");
            }
        }
        if (o.IsS3Api && o.Kind != "gcs")
        {
            o = Encryption(o, get);
        }
        else if (EncryptionVariables.FirstOrDefault(v => NonEmpty(get(v)) is not null) is { } set)
        {
            // Refused rather than ignored: an operator who asks for KMS encryption must not get objects without it.
            throw new FormatException($"{set} applies to the S3 log stores (s3, s3_assume, s3_custom, wasabi, netapp); LOG_STORE={raw} encrypts with the storage service's own keys. Remove it, or set the bucket's default encryption.");
        }
        return o;
    }

    private static readonly string[] EncryptionVariables =
    [
        "SSE_ENCRYPTION_TYPE", "KMS_KEY_ID", "KMS_BUCKET_KEY_ENABLED", "KMS_ENCRYPTION_CONTEXT", "KMS_ENCRYPTION_ALGORITHM",
        "KMS_ENCRYPTION_CUSTOMER_KEY", "KMS_ENCRYPTION_CUSTOMER_KEY_MD5", "KMS_ROLE_ARN",
    ];

    private static void RequireKeys(LogObjectStoreOptions o, string raw)
    {
        if (o.AccessKey is null)
        {
            throw new FormatException($"LOG_STORE={raw} needs LOG_STORE_ACCESS_KEY and LOG_STORE_SECRET_KEY"
                + (raw.Equals("s3", StringComparison.OrdinalIgnoreCase) ? "; for a role, IRSA or the instance profile use LOG_STORE=s3_assume." : "."));
        }
    }

    private static LogObjectStoreOptions Azure(LogObjectStoreOptions o, Func<string, string?> get, string raw)
    {
        string? Value(string name) => NonEmpty(get(name));
        string Required(string name, string why) => Value(name) ?? throw new FormatException($"LOG_STORE={raw} needs {name} ({why}).");

        var account = Required("AZURE_STORAGE_ACCOUNT", "the storage account name");
        var container = Required("AZURE_STORAGE_CONTAINER", "the blob container the logs go to");
        var mode = Value("AZURE_AUTH_MODE")?.ToLowerInvariant() switch
        {
            null or "sharedkey" or "shared_key" or "key" => "sharedkey",
            "managed" => "managed",
            "workload" => "workload",
            "entra" => "entra",
            var other => throw new FormatException($"AZURE_AUTH_MODE={other} is not valid: leave it unset for AZURE_STORAGE_KEY, or use managed, workload or entra."),
        };
        o = o with { AzureAccount = account, Bucket = container, AzureAuthMode = mode, AzureAuthorityHost = HttpUri(get, "AZURE_AUTHORITY_HOST")?.ToString() };
        switch (mode)
        {
            case "sharedkey":
            {
                var key = Value("AZURE_STORAGE_KEY")
                    ?? throw new FormatException($"LOG_STORE={raw} without AZURE_AUTH_MODE needs AZURE_STORAGE_KEY (the account key); or set AZURE_AUTH_MODE to managed, workload or entra.");
                try
                {
                    _ = Convert.FromBase64String(key);
                }
                catch (FormatException)
                {
                    throw new FormatException("AZURE_STORAGE_KEY is not valid: an account key is base64 (copy key1 or key2 from the storage account's Access keys).");
                }
                return o with { AzureAccountKey = key };
            }
            case "managed":
                return o with { AzureManagedClientId = Value("AZURE_MANAGED_CLIENT_ID") };
            case "entra":
                return o with
                {
                    AzureTenantId = Value("AZURE_ENTRA_TENANT_ID") ?? throw new FormatException("AZURE_AUTH_MODE=entra needs AZURE_ENTRA_TENANT_ID."),
                    AzureClientId = Value("AZURE_ENTRA_CLIENT_ID") ?? throw new FormatException("AZURE_AUTH_MODE=entra needs AZURE_ENTRA_CLIENT_ID."),
                    AzureClientSecret = get("AZURE_ENTRA_CLIENT_SECRET") is { Length: > 0 } s ? s : throw new FormatException("AZURE_AUTH_MODE=entra needs AZURE_ENTRA_CLIENT_SECRET."),
                };
            default: // workload: the AKS workload-identity webhook injects these three into the pod.
                return o with
                {
                    AzureTenantId = Value("AZURE_ENTRA_TENANT_ID") ?? Value("AZURE_TENANT_ID")
                        ?? throw new FormatException("AZURE_AUTH_MODE=workload needs AZURE_TENANT_ID (set by the AKS workload identity webhook when the pod has the label azure.workload.identity/use: \"true\")."),
                    AzureClientId = Value("AZURE_CLIENT_ID") ?? Value("AZURE_ENTRA_CLIENT_ID")
                        ?? throw new FormatException("AZURE_AUTH_MODE=workload needs AZURE_CLIENT_ID (set by the AKS webhook from the service account's azure.workload.identity/client-id annotation)."),
                    AzureFederatedTokenFile = Value("AZURE_FEDERATED_TOKEN_FILE")
                        ?? throw new FormatException("AZURE_AUTH_MODE=workload needs AZURE_FEDERATED_TOKEN_FILE (set by the AKS workload identity webhook)."),
                };
        }
    }

    private static LogObjectStoreOptions Encryption(LogObjectStoreOptions o, Func<string, string?> get)
    {
        string? Value(string name) => NonEmpty(get(name));
        if (Value("KMS_ROLE_ARN") is { } kmsRole)
        {
            throw new FormatException($"KMS_ROLE_ARN={kmsRole} is not available in this version of Switchyard: grant the log store's own role kms:GenerateDataKey and kms:Decrypt on the key instead.");
        }
        var sse = Value("SSE_ENCRYPTION_TYPE") switch
        {
            null => null,
            var v when v.Equals("AES256", StringComparison.OrdinalIgnoreCase) => "AES256",
            var v when v.Equals("aws:kms", StringComparison.OrdinalIgnoreCase) => "aws:kms",
            var v when v.Equals("aws:kms:dsse", StringComparison.OrdinalIgnoreCase) => "aws:kms:dsse",
            var v => throw new FormatException($"SSE_ENCRYPTION_TYPE={v} is not valid: use AES256, aws:kms or aws:kms:dsse."),
        };
        var kms = sse is "aws:kms" or "aws:kms:dsse";
        var keyId = Value("KMS_KEY_ID");
        var bucketKey = NonEmpty(get("KMS_BUCKET_KEY_ENABLED")) is null ? (bool?)null : Bool(get, "KMS_BUCKET_KEY_ENABLED");
        var contextRaw = Value("KMS_ENCRYPTION_CONTEXT");
        if (!kms)
        {
            foreach (var (name, set) in new[] { ("KMS_KEY_ID", keyId is not null), ("KMS_ENCRYPTION_CONTEXT", contextRaw is not null), ("KMS_BUCKET_KEY_ENABLED=true", bucketKey == true) })
            {
                if (set)
                {
                    throw new FormatException($"{name} needs SSE_ENCRYPTION_TYPE=aws:kms or aws:kms:dsse (it is {(sse ?? "unset")}).");
                }
            }
        }

        var customerKey = get("KMS_ENCRYPTION_CUSTOMER_KEY") is { Length: > 0 } ck ? ck.Trim() : null;
        var customerAlgorithm = Value("KMS_ENCRYPTION_ALGORITHM");
        var customerMd5 = Value("KMS_ENCRYPTION_CUSTOMER_KEY_MD5");
        if (customerKey is null && (customerAlgorithm is not null || customerMd5 is not null))
        {
            throw new FormatException("KMS_ENCRYPTION_ALGORITHM and KMS_ENCRYPTION_CUSTOMER_KEY_MD5 need KMS_ENCRYPTION_CUSTOMER_KEY (the SSE-C key, base64 of 32 bytes).");
        }
        if (customerKey is not null)
        {
            if (sse is not null)
            {
                throw new FormatException($"KMS_ENCRYPTION_CUSTOMER_KEY (SSE-C) and SSE_ENCRYPTION_TYPE={sse} exclude each other: S3 takes one kind of server-side encryption per object.");
            }
            if (customerAlgorithm is not null && !customerAlgorithm.Equals("AES256", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"KMS_ENCRYPTION_ALGORITHM={customerAlgorithm} is not valid: SSE-C supports only AES256.");
            }
            byte[] keyBytes;
            try
            {
                keyBytes = Convert.FromBase64String(customerKey);
            }
            catch (FormatException)
            {
                throw new FormatException("KMS_ENCRYPTION_CUSTOMER_KEY is not valid: expected base64 of a 256-bit key (e.g. openssl rand -base64 32).");
            }
            if (keyBytes.Length != 32)
            {
                throw new FormatException($"KMS_ENCRYPTION_CUSTOMER_KEY is not valid: it decodes to {keyBytes.Length} bytes; SSE-C needs a 256-bit (32-byte) key.");
            }
#pragma warning disable CA5351 // S3 defines the SSE-C key check as MD5; it is an integrity check, not a security boundary.
            var md5 = Convert.ToBase64String(MD5.HashData(keyBytes));
#pragma warning restore CA5351
            if (customerMd5 is not null && customerMd5 != md5)
            {
                throw new FormatException("KMS_ENCRYPTION_CUSTOMER_KEY_MD5 does not match KMS_ENCRYPTION_CUSTOMER_KEY: leave it unset and it is computed.");
            }
            o = o with { CustomerKeyAlgorithm = "AES256", CustomerKey = customerKey, CustomerKeyMd5 = md5 };
        }
        return o with
        {
            ServerSideEncryption = sse,
            KmsKeyId = keyId,
            KmsBucketKeyEnabled = kms ? bucketKey : null,
            KmsEncryptionContext = contextRaw is null ? null : EncryptionContext(contextRaw),
        };
    }

    /// <summary>
    /// S3 wants the context as base64 of a JSON object whose values are strings. Operators write the JSON; a value that
    /// is already base64 of such JSON is taken as it is.
    /// </summary>
    private static string EncryptionContext(string raw)
    {
        var json = raw.TrimStart().StartsWith('{') ? raw : TryBase64Text(raw);
        const string Wanted = "expected a JSON object of strings, e.g. {\"app\":\"switchyard\"}, or base64 of one.";
        if (json is null)
        {
            throw new FormatException("KMS_ENCRYPTION_CONTEXT is not valid: " + Wanted);
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || doc.RootElement.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
            {
                throw new FormatException("KMS_ENCRYPTION_CONTEXT is not valid: " + Wanted);
            }
        }
        catch (JsonException)
        {
            throw new FormatException("KMS_ENCRYPTION_CONTEXT is not valid JSON: " + Wanted);
        }
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }

    private static string? TryBase64Text(string raw)
    {
        var buffer = new byte[raw.Length];
        return Convert.TryFromBase64String(raw, buffer, out var n) ? Encoding.UTF8.GetString(buffer, 0, n) : null;
    }

    /// <summary>A key prefix from a base path: no leading slash, one trailing slash, empty when unset.</summary>
    private static string Prefix(string? basePath)
    {
        var trimmed = basePath?.Trim().Trim('/');
        if (string.IsNullOrEmpty(trimmed))
        {
            return "";
        }
        if (trimmed.Contains("//", StringComparison.Ordinal) || trimmed.Split('/').Any(s => s is "." or ".."))
        {
            throw new FormatException($"LOG_STORE_BASEPATH={basePath} is not a valid path inside the bucket: no empty, '.' or '..' segments.");
        }
        return trimmed + "/";
    }

    /// <summary>One path segment of every key: letters, digits, '.', '_' and '-' only, so it never needs escaping.</summary>
    private static string Segment(Func<string, string?> get, string name, string fallback)
    {
        var value = NonEmpty(get(name));
        if (value is null)
        {
            return fallback;
        }
        if (value.Length > 128 || value is "." or ".." || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new FormatException($"{name}={value} is not valid: it becomes one segment of every log object's key, so use letters, digits, '.', '_' and '-' (at most 128).");
        }
        return value;
    }

    private static Uri? HttpUri(Func<string, string?> get, string name)
    {
        var value = NonEmpty(get(name));
        if (value is null)
        {
            return null;
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new FormatException($"{name}={value} is not valid: expected an http:// or https:// URL.");
        }
        return uri;
    }

    private static bool Bool(Func<string, string?> get, string name) => NonEmpty(get(name))?.ToLowerInvariant() switch
    {
        null => false,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        var other => throw new FormatException($"{name}={other} is not valid: use true or false."),
    };
}
