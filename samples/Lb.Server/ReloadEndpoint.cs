using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lb.Core.Admin;
using Microsoft.Extensions.Options;

namespace Lb.Server;

/// <summary><c>POST /api/config/reload</c> on the admin listener: re-reads the <c>serve --config</c> file (a write: token required when set).</summary>
internal static class ReloadEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        // Mapped beside the admin API, not inside it, so it checks the token the admin API uses itself.
        var admin = context.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (admin.AdminToken.Length > 0 && !HasToken(context, admin.AdminToken))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await WriteAsync(context, 401, Error("missing or wrong admin token", "unauthorized"));
            return;
        }
        if (context.RequestServices.GetService<ConfigFile>() is not { } file)
        {
            await WriteAsync(context, 409, Error("this node was not started with 'serve --config FILE'; there is no file to reload (use PUT /api/config)", "no_config_file"));
            return;
        }
        var result = await file.ReloadAsync(context.RequestAborted);
        if (result.Ok)
        {
            await WriteAsync(context, 200, new JsonObject { ["file"] = file.Path, ["version"] = result.Version });
            return;
        }
        var body = Error($"{file.Path} not loaded; the running configuration is kept", "invalid_config");
        body["errors"] = new JsonArray([.. result.Problems.Select(p => (JsonNode)new JsonObject { ["field"] = p.Field, ["message"] = p.Message, ["code"] = p.Code, ["hint"] = p.Hint })]);
        await WriteAsync(context, 422, body);
    }

    private static JsonObject Error(string message, string code) => new() { ["message"] = message, ["code"] = code };

    private static bool HasToken(HttpContext context, string token)
    {
        const string scheme = "Bearer ";
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }

    private static Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString() + "\n", context.RequestAborted);
    }
}
