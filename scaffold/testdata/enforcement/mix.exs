defmodule SertantaiEnforcement.MixProject do
  use Mix.Project

  def project do
    [app: :sertantai_enforcement, version: "0.1.0", elixir: "~> 1.16", deps: deps()]
  end

  defp deps do
    [
      {:phoenix, "~> 1.7.14"},
      {:ash, "~> 3.0"},
      {:ash_postgres, "~> 2.0"},
      {:electric, "~> 1.0"},
      {:bandit, "~> 1.5"}
    ]
  end
end
