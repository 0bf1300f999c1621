using System.Security.Cryptography;
using System.Text;

namespace Switchyard.Redis;

/// <summary>A Lua script run with EVALSHA by its SHA-1, sent in full only when a server does not know it yet.</summary>
public sealed class RedisScript
{
    public RedisScript(string lua)
    {
        ArgumentException.ThrowIfNullOrEmpty(lua);
        Source = lua;
        SourceBytes = Encoding.UTF8.GetBytes(lua);
        // Redis names scripts by the lowercase hex SHA-1 of their UTF-8 source.
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(SourceBytes));
        Sha1Bytes = Encoding.ASCII.GetBytes(Sha1);
    }

    public string Source { get; }

    public string Sha1 { get; }

    internal byte[] SourceBytes { get; }

    internal byte[] Sha1Bytes { get; }
}
