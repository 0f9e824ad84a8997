#include "assess/catalog.h"

#include <gtest/gtest.h>

namespace ferry::assess {
namespace {

TEST(Catalog, BuiltinParsesAndCarriesTheAwsServiceMap) {
  auto catalog = Catalog::parse(std::string(builtin_catalog_text()), "data/catalog.yaml");
  ASSERT_TRUE(catalog) << catalog.error().to_string();
  EXPECT_GT(catalog->entries().size(), 100u);
  // The AWS service mapping the catalog started from, row by row: target and complexity.
  const std::vector<std::tuple<const char*, const char*, const char*>> aws{
      {"EC2", "Hetzner Cloud / OVH Compute", "low"},
      {"EKS", "Vanilla Kubernetes / k3s", "low"},
      {"RDS PostgreSQL", "PostgreSQL on Kubernetes", "low"},
      {"RDS Aurora", "PostgreSQL + PgBouncer", "medium"},
      {"S3", "MinIO", "low"},
      {"Lambda", "Knative / OpenFaaS", "high"},
      {"DynamoDB", "ScyllaDB / CockroachDB", "high"},
      {"SQS", "RabbitMQ / Apache Kafka", "medium"},
      {"Cognito", "Keycloak", "medium"},
      {"CloudWatch", "Prometheus + Grafana", "medium"},
      {"Secrets Manager", "OpenBao", "low"},
      {"Route 53", "CoreDNS / PowerDNS", "low"},
  };
  for (const auto& [from, to, complexity] : aws) {
    const CatalogEntry* e = catalog->find(from);
    ASSERT_NE(e, nullptr) << from;
    EXPECT_EQ(e->to, to) << from;
    EXPECT_EQ(e->complexity, complexity) << from;
    EXPECT_EQ(e->provider, "aws") << from;
  }
  EXPECT_TRUE(catalog->find("Lambda")->proprietary);
  EXPECT_FALSE(catalog->find("S3")->proprietary);
}

TEST(Catalog, MatchesSpellingsAndAliasesAcrossProviders) {
  auto catalog = Catalog::parse(std::string(builtin_catalog_text()), "data/catalog.yaml");
  ASSERT_TRUE(catalog);
  for (const char* spelling :
       {"rds-postgresql", "RDS POSTGRESQL", "Azure SQL", "Cloud SQL", "GCS", "AKS", "GKE",
        "Entra ID", "M365", "Cosmos DB", "BigQuery", "Slack", "Salesforce"}) {
    EXPECT_NE(catalog->find(spelling), nullptr) << spelling;
  }
  EXPECT_EQ(catalog->find("Mainframe CICS"), nullptr);
  EXPECT_EQ(catalog->find("Azure Functions")->provider, "azure");
  EXPECT_EQ(catalog->find("Cloud Functions")->provider, "gcp");
}

TEST(Catalog, RejectsDuplicateSpellingsUnknownKeysAndBadComplexity) {
  auto catalog = Catalog::parse(R"(services:
  - { name: S3, to: MinIO, complexity: low }
  - { name: Object Store, aliases: [s-3], to: Ceph, complexity: hard }
  - { name: X, to: Y, complexity: low, note: typo }
  - { name: Cache, to: Valkey, complexity: low, constraints: [no_replication_out, no_superusr] }
)",
                                "c.yaml");
  ASSERT_FALSE(catalog);
  const std::string m = catalog.error().message;
  EXPECT_NE(
      m.find("c.yaml:3:5: error: services[1]: 's-3' is already used by the entry at c.yaml:2:5"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("services[1].complexity: unknown value 'hard'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key 'note' (did you mean 'notes'?)"), std::string::npos) << m;
  EXPECT_NE(m.find("c.yaml:5:83: error: services[3].constraints: unknown constraint "
                   "'no_superusr' (did you mean 'no_superuser'?)"),
            std::string::npos)
      << m;
}

TEST(Catalog, SourceConstraintsAreData) {
  auto catalog = Catalog::parse(std::string(builtin_catalog_text()), "catalog.yaml");
  ASSERT_TRUE(catalog) << catalog.error().message;
  auto constraints = [&](const char* service) { return catalog->find(service)->constraints; };
  EXPECT_EQ(constraints("ElastiCache Redis"), std::vector<std::string>{"no_replication_out"});
  EXPECT_EQ(constraints("Cognito"), std::vector<std::string>{"hashes_not_exportable"});
  EXPECT_EQ(constraints("KMS"), std::vector<std::string>{"keys_not_exportable"});
  EXPECT_EQ(constraints("RDS PostgreSQL"), std::vector<std::string>{"no_superuser"});
  EXPECT_TRUE(constraints("EC2").empty());
}

}  // namespace
}  // namespace ferry::assess
