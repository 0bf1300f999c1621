namespace Switchyard.Core.Redis;

/// <summary>Redis could not be asked: no connection, or no answer within the command timeout. The message says why, without secrets.</summary>
public sealed class RedisUnavailableException : Exception
{
    public RedisUnavailableException(string message)
        : base(message)
    {
    }

    public RedisUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
