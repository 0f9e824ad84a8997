#include "db/clone/schema_steps.h"

#include <gtest/gtest.h>

namespace ferry::db {
namespace {

TEST(ForeignKeysNotValid, PlainTableKeysBecomeNotValidWithTheirValidation) {
  std::string sql =
      "SET search_path = '';\n"
      "ALTER TABLE ONLY \"Sales Data\".\"Orders\"\n"
      "    ADD CONSTRAINT \"Orders_fk\" FOREIGN KEY (c) REFERENCES \"Sales Data\".\"C\"(id);\n"
      "ALTER TABLE ONLY public.a\n"
      "    ADD CONSTRAINT a_b_fkey FOREIGN KEY (b) REFERENCES public.b(id) NOT VALID;\n"
      "ALTER TABLE public.parted\n"
      "    ADD CONSTRAINT parted_fk FOREIGN KEY (x) REFERENCES public.b(id);\n"
      "ALTER TABLE ONLY public.t\n"
      "    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n";
  const auto validations = add_foreign_keys_not_valid(sql);
  ASSERT_EQ(validations.size(), 1u);
  EXPECT_EQ(validations[0],
            "ALTER TABLE ONLY \"Sales Data\".\"Orders\" VALIDATE CONSTRAINT \"Orders_fk\"");
  EXPECT_NE(sql.find("REFERENCES \"Sales Data\".\"C\"(id) NOT VALID;\n"), std::string::npos);
  // Already NOT VALID, on a partitioned table, or not a foreign key: untouched.
  EXPECT_EQ(sql.find("NOT VALID NOT VALID"), std::string::npos);
  EXPECT_NE(sql.find("REFERENCES public.b(id);\n"), std::string::npos);
  EXPECT_NE(sql.find("PRIMARY KEY (id);\n"), std::string::npos);
}

}  // namespace
}  // namespace ferry::db
