defmodule HelloDaemon.Web do
  @moduledoc """
  A stand-alone httpd linked to its supervisor, answering every request itself: it is
  the only module in httpd's chain, so no document root is ever served.
  """

  def child_spec(opts) do
    %{id: __MODULE__, start: {__MODULE__, :start_link, [Keyword.fetch!(opts, :port)]}}
  end

  def start_link(port) do
    root = System.tmp_dir!()

    :inets.start(
      :httpd,
      [
        port: port,
        bind_address: {127, 0, 0, 1},
        server_name: ~c"hello_daemon",
        server_root: String.to_charlist(root),
        document_root: String.to_charlist(root),
        modules: [__MODULE__]
      ],
      :stand_alone
    )
  end

  # httpd's module callback.
  def unquote(:do)(_request) do
    body = "hello from #{node()}\n"
    {:proceed, [response: {200, String.to_charlist(body)}]}
  end
end
