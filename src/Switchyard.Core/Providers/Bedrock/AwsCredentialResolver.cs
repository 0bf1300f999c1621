using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Switchyard.Core.Errors;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Bedrock;

/// <summary>
/// Finds the AWS credentials for a target: static keys (fields, else the gateway's AWS_* environment), an STS
/// AssumeRole on top of them (<c>aws_auth_type: assumedRole</c>), or AssumeRoleWithWebIdentity (IRSA:
/// <c>AWS_WEB_IDENTITY_TOKEN_FILE</c> + <c>AWS_ROLE_ARN</c>). Temporary credentials are cached until five minutes before they expire.
/// </summary>
public sealed class AwsCredentialResolver(Func<string, string?> environment, HttpMessageInvoker http, TimeProvider time)
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, AwsCredentials> _cache = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _fetching = new(1, 1);

    public async ValueTask<AwsCredentials> ResolveAsync(ResolvedTarget target, string region, CancellationToken ct)
    {
        var authType = target.Field("aws_auth_type");
        var fromFields = StaticFromFields(target);
        if (string.Equals(authType, "assumedRole", StringComparison.OrdinalIgnoreCase))
        {
            var source = fromFields ?? StaticFromEnvironment()
                ?? throw new TranslationException("Bedrock aws_auth_type assumedRole needs aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the gateway's environment) to call STS with");
            var role = target.Field("aws_role_arn") ?? throw new TranslationException("Bedrock aws_auth_type assumedRole needs aws_role_arn");
            var externalId = target.Field("aws_external_id");
            var key = $"role\n{source.AccessKeyId}\n{role}\n{externalId}\n{region}";
            return await CachedAsync(key, () => AssumeRoleAsync(source, role, externalId, region, ct), ct).ConfigureAwait(false);
        }
        var web = string.Equals(authType, "webIdentity", StringComparison.OrdinalIgnoreCase);
        if (!web && fromFields is not null)
        {
            return fromFields;
        }
        var tokenFile = Env("AWS_WEB_IDENTITY_TOKEN_FILE");
        var envRole = Env("AWS_ROLE_ARN");
        if (web || (tokenFile is not null && envRole is not null))
        {
            var role = target.Field("aws_role_arn") ?? envRole;
            if (tokenFile is null || role is null)
            {
                throw new TranslationException("Bedrock web identity needs AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (or aws_role_arn) in the gateway's environment");
            }
            var key = $"web\n{tokenFile}\n{role}\n{region}";
            return await CachedAsync(key, () => AssumeRoleWithWebIdentityAsync(tokenFile, role, region, ct), ct).ConfigureAwait(false);
        }
        return StaticFromEnvironment()
            ?? throw new TranslationException("Bedrock needs credentials: aws_access_key_id and aws_secret_access_key, aws_auth_type apiKey with an api_key, or AWS credentials in the gateway's environment");
    }

    private static AwsCredentials? StaticFromFields(ResolvedTarget target) =>
        target.Field("aws_access_key_id") is { } id && target.Field("aws_secret_access_key") is { } secret
            ? new AwsCredentials(id, secret, target.Field("aws_session_token"))
            : null;

    private AwsCredentials? StaticFromEnvironment() =>
        Env("AWS_ACCESS_KEY_ID") is { } id && Env("AWS_SECRET_ACCESS_KEY") is { } secret
            ? new AwsCredentials(id, secret, Env("AWS_SESSION_TOKEN"))
            : null;

    private string? Env(string name) => environment(name) is { Length: > 0 } v ? v.Trim() : null;

    private async ValueTask<AwsCredentials> CachedAsync(string key, Func<Task<AwsCredentials>> fetch, CancellationToken ct)
    {
        if (_cache.TryGetValue(key, out var cached) && Fresh(cached))
        {
            return cached;
        }
        await _fetching.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_cache.TryGetValue(key, out cached) && Fresh(cached))
            {
                return cached;
            }
            var fresh = await fetch().ConfigureAwait(false);
            _cache[key] = fresh;
            return fresh;
        }
        finally
        {
            _fetching.Release();
        }
    }

    private bool Fresh(AwsCredentials c) => c.Expiration is not { } exp || exp - RefreshMargin > time.GetUtcNow();

    private Uri StsEndpoint(string region) => new(Env("AWS_ENDPOINT_URL_STS") ?? $"https://sts.{region}.amazonaws.com");

    private Task<AwsCredentials> AssumeRoleAsync(AwsCredentials source, string role, string? externalId, string region, CancellationToken ct)
    {
        var form = new List<(string, string)>
        {
            ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", role), ("RoleSessionName", "switchyard"),
        };
        if (externalId is not null)
        {
            form.Add(("ExternalId", externalId));
        }
        return CallStsAsync(form, source, region, "AssumeRole", ct);
    }

    private async Task<AwsCredentials> AssumeRoleWithWebIdentityAsync(string tokenFile, string role, string region, CancellationToken ct)
    {
        string token;
        try
        {
            token = (await File.ReadAllTextAsync(tokenFile, ct).ConfigureAwait(false)).Trim();
        }
        catch (IOException ex)
        {
            throw new TranslationException($"Bedrock web identity: cannot read AWS_WEB_IDENTITY_TOKEN_FILE: {ex.Message}");
        }
        var form = new List<(string, string)>
        {
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role),
            ("RoleSessionName", Env("AWS_ROLE_SESSION_NAME") ?? "switchyard"), ("WebIdentityToken", token),
        };
        return await CallStsAsync(form, null, region, "AssumeRoleWithWebIdentity", ct).ConfigureAwait(false);
    }

    private async Task<AwsCredentials> CallStsAsync(List<(string Name, string Value)> form, AwsCredentials? signer, string region, string action, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(string.Join("&", form.Select(p => SigV4.Encode(p.Name) + "=" + SigV4.Encode(p.Value))));
        using var request = new HttpRequestMessage(HttpMethod.Post, StsEndpoint(region)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded") { CharSet = "utf-8" };
        if (signer is not null)
        {
            SigV4.Sign(request, body, signer, region, "sts", time.GetUtcNow());
        }
        string text;
        int status;
        try
        {
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            status = (int)response.StatusCode;
            text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Fail(ErrorCategory.UpstreamUnreachable, $"Bedrock credentials: STS {action} could not be reached: {ex.Message}");
        }
        XElement root;
        try
        {
            root = XElement.Parse(text);
        }
        catch (System.Xml.XmlException)
        {
            throw Fail(ErrorCategory.BadUpstreamResponse, $"Bedrock credentials: STS {action} answered {status} with a body that is not XML");
        }
        if (status >= 400 || root.Name.LocalName == "ErrorResponse")
        {
            var error = Find(root, "Error");
            throw Fail(ErrorCategory.BadUpstreamResponse,
                $"Bedrock credentials: STS {action} failed ({status} {Find(error, "Code")?.Value}): {Find(error, "Message")?.Value}");
        }
        var creds = Find(root, "Credentials");
        var id = Find(creds, "AccessKeyId")?.Value;
        var secret = Find(creds, "SecretAccessKey")?.Value;
        var session = Find(creds, "SessionToken")?.Value;
        var expiration = Find(creds, "Expiration")?.Value;
        if (id is null || secret is null || session is null || !DateTimeOffset.TryParse(expiration, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var exp))
        {
            throw Fail(ErrorCategory.BadUpstreamResponse, $"Bedrock credentials: STS {action} answered without complete Credentials");
        }
        return new AwsCredentials(id, secret, session, exp);
    }

    private static GatewayErrorException Fail(ErrorCategory category, string message) =>
        new(new GatewayError(category, message) { Provider = "bedrock" });

    private static XElement? Find(XElement? parent, string name) =>
        parent?.Descendants().FirstOrDefault(e => e.Name.LocalName == name);
}
