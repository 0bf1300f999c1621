using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Gateway.Hosting;

/// <summary><c>Switchyard.Gateway hash-key [KEY]</c>: prints the hash to put in a key file; without KEY, makes a fresh key too.</summary>
public static class HashKeyCommand
{
    public const string Name = "hash-key";

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (args.Count > 2)
        {
            error.WriteLine("usage: Switchyard.Gateway hash-key [KEY]");
            return 2;
        }
        if (args.Count == 2)
        {
            if (string.IsNullOrEmpty(args[1]))
            {
                error.WriteLine("hash-key: the key is empty");
                return 2;
            }
            output.WriteLine(ApiKeyHash.Format(args[1]));
            return 0;
        }
        var key = ApiKeyHash.Generate();
        output.WriteLine($"key:  {key}");
        output.WriteLine($"hash: {ApiKeyHash.Format(key)}");
        output.WriteLine("Give the key to its user once; put only the hash in the key file.");
        return 0;
    }
}
