// A deliberately trivial origin for the proxy benchmark: GET / answers a 13-byte body, GET /64k answers 64 KiB.
// Usage: Backend <port>. Listens on 127.0.0.1 only, plain HTTP/1.1, no logging.
using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 9001;
var small = "hello, world\n"u8.ToArray();
var large = new byte[64 * 1024];
Array.Fill(large, (byte)'x');

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1);
});
var app = builder.Build();

app.Run(context =>
{
    var body = context.Request.Path.Value switch
    {
        "/64k" => large,
        _ => small,
    };
    var response = context.Response;
    response.ContentType = "text/plain";
    response.ContentLength = body.Length;
    return response.Body.WriteAsync(body, 0, body.Length);
});

await app.RunAsync();
Console.WriteLine("backend: stopped");
