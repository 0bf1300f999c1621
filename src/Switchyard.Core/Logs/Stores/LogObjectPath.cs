using System.Globalization;
using System.Text;

namespace Switchyard.Core.Logs.Stores;

/// <summary>
/// Object keys for request logs, in Portkey's layouts (<c>LOG_STORE_FILE_PATH_FORMAT</c>):
/// v1 <c>[prefix]30/&lt;org&gt;/&lt;log-id&gt;.json</c>, v2 <c>[prefix]30/&lt;org&gt;/&lt;workspace&gt;/yyyy/MM/dd/HH/&lt;log-id&gt;.json</c> (UTC).
/// </summary>
/// <remarks>
/// A v2 key depends on the record's hour, so looking a record up by id alone needs that hour. Our log ids are UUIDv7,
/// whose first 48 bits are the Unix time in milliseconds: <see cref="For"/> takes the hour from the id whenever the id
/// is a UUIDv7 (and from <c>createdAt</c> only otherwise), so <see cref="TryForLogId"/> finds every record the gateway
/// wrote. A v2 record whose id is not a UUIDv7 (a client-chosen trace id) cannot be found by id alone.
/// </remarks>
public static class LogObjectPath
{
    /// <summary>The constant first segment of Portkey's layouts (its meaning is undocumented; kept so existing tooling finds the objects).</summary>
    public const string Root = "30";

    /// <summary>Longest log id accepted (after escaping); S3, GCS and Azure all allow 1024-byte keys.</summary>
    public const int MaxLogIdLength = 512;

    /// <summary>The key of the record <paramref name="logId"/> created at <paramref name="createdAt"/>.</summary>
    /// <exception cref="ArgumentException">The id is empty or too long.</exception>
    public static string For(LogObjectStoreOptions o, string logId, DateTimeOffset createdAt)
    {
        var id = Escape(logId);
        if (o.PathFormat == LogObjectPathFormat.V1)
        {
            return $"{o.KeyPrefix}{Root}/{o.OrganisationId}/{id}.json";
        }
        var t = (TimeOfUuidV7(logId) ?? createdAt).UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture,
            $"{o.KeyPrefix}{Root}/{o.OrganisationId}/{o.WorkspaceSlug}/{t:yyyy}/{t:MM}/{t:dd}/{t:HH}/{id}.json");
    }

    /// <summary>
    /// The key of the record <paramref name="logId"/> without its creation time: always for v1; for v2 only when the id is a
    /// UUIDv7 (its embedded time gives the hour). False when the key cannot be known, or the id is empty or too long.
    /// </summary>
    public static bool TryForLogId(LogObjectStoreOptions o, string logId, out string key)
    {
        key = "";
        if (string.IsNullOrEmpty(logId) || logId.Length > MaxLogIdLength)
        {
            return false;
        }
        if (o.PathFormat == LogObjectPathFormat.V2)
        {
            if (TimeOfUuidV7(logId) is not { } time)
            {
                return false;
            }
            key = For(o, logId, time);
            return true;
        }
        key = For(o, logId, default);
        return true;
    }

    /// <summary>The time embedded in a UUID version 7 (RFC 9562: the first 48 bits are Unix milliseconds), or null for any other text.</summary>
    public static DateTimeOffset? TimeOfUuidV7(string id)
    {
        if (!Guid.TryParseExact(id, "D", out var guid) || guid.Version != 7 || (guid.Variant & 0b1100) != 0b1000)
        {
            return null;
        }
        var ms = long.Parse(id.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) << 16
            | long.Parse(id.AsSpan(9, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    /// <summary>
    /// The id as one key segment: letters, digits, '-', '_' and '.' stay; everything else ('/', spaces, non-ASCII) is
    /// percent-encoded as UTF-8, so a client-chosen trace id can neither add path segments nor escape the prefix.
    /// </summary>
    private static string Escape(string logId)
    {
        if (string.IsNullOrEmpty(logId))
        {
            throw new ArgumentException("A log id is needed to name its object.", nameof(logId));
        }
        var clean = logId is not ("." or "..") && logId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
        string escaped;
        if (clean)
        {
            escaped = logId;
        }
        else
        {
            var sb = new StringBuilder(logId.Length + 16);
            foreach (var b in Encoding.UTF8.GetBytes(logId))
            {
                var c = (char)b;
                if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                {
                    sb.Append(c);
                }
                else
                {
                    sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
                }
            }
            escaped = sb.ToString();
        }
        if (escaped.Length > MaxLogIdLength)
        {
            throw new ArgumentException($"The log id is longer than {MaxLogIdLength} characters once escaped.", nameof(logId));
        }
        return escaped;
    }
}
