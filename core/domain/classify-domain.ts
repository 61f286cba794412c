import { Matcher } from '../rules/matcher.js';

/**
 * 领域: which area of the unit's work a post concerns, for reports broken down by domain. Keyword
 * lists per domain (built in, extended and added to by rule packs' `domains:`), plus the domains of
 * the rule terms and schemes a post hit, which weigh more than a keyword.
 */
export const DEFAULT_DOMAIN_KEYWORDS: Record<string, string[]> = {
  政治: [
    '党委', '党组', '党建', '党员', '党支部', '纪委', '监委', '巡视', '巡察', '反腐', '腐败', '廉政', '干部', '书记', '县长', '市长', '人大', '政协',
    '政府', '政策', '选举', '意识形态', '中央', '国务院', '主席', '总书记', '领导班子', '作风建设', '形式主义', '官僚主义', '主题教育', '民主生活会',
    '违纪', '违法', '处分', '问责', '舆论', '国家安全', '主权', '台湾', '外交',
  ],
  民生经济和社会: [
    '就业', '工资', '欠薪', '社保', '医保', '养老', '医院', '看病', '住房', '房价', '物业', '拆迁', '征地', '补偿', '低保', '扶贫', '救助', '交通',
    '道路', '停水', '停电', '供暖', '燃气', '噪音', '污染', '环保', '垃圾', '食品安全', '安全生产', '事故', '火灾', '城管', '执法', '治安', '派出所',
    '企业', '经济', '营商环境', '物价', '收费', '农民', '农村', '农业', '乡村振兴', '疫情', '防汛', '消费', '投诉', '信访', '上访',
  ],
  文化教育: [
    '学校', '教育', '教师', '老师', '学生', '校长', '幼儿园', '小学', '中学', '高考', '中考', '招生', '学费', '课外', '培训', '双减', '校园', '文化',
    '文艺', '图书馆', '博物馆', '文物', '旅游', '景区', '体育', '演出', '非遗', '出版', '网络文学', '影视', '广播', '新闻',
  ],
  民族宗教: [
    '民族', '少数民族', '宗教', '寺庙', '寺院', '教堂', '清真', '佛教', '道教', '伊斯兰', '基督', '天主', '信教', '宗教活动', '宗教场所', '民族团结',
    '藏族', '维吾尔', '回族', '蒙古族', '苗族', '彝族', '壮族', '邪教', '传教', '宗教极端',
  ],
};

export interface DomainEvidence {
  keyword: string;
  domain: string;
  count: number;
}

export interface DomainResult {
  /** The domain with the most evidence, or null when nothing points anywhere. */
  label: string | null;
  scores: Record<string, number>;
  evidence: DomainEvidence[];
}

/** A keyword counts 1; a rule term of the domain counts 2; a fired scheme of the domain counts 3. */
export const DOMAIN_WEIGHTS = { keyword: 1, term: 2, scheme: 3 } as const;

export class DomainClassifier {
  private readonly matcher: Matcher<string>;
  readonly domains: string[];

  /** `extra` lists are added to the built-in ones (a new domain name adds a domain: the unit's own). */
  constructor(extra: Record<string, readonly string[]> = {}) {
    const lists = new Map<string, Set<string>>();
    for (const [domain, words] of [...Object.entries(DEFAULT_DOMAIN_KEYWORDS), ...Object.entries(extra)]) {
      const set = lists.get(domain) ?? new Set<string>();
      for (const w of words) set.add(w);
      lists.set(domain, set);
    }
    this.domains = [...lists.keys()];
    this.matcher = new Matcher([...lists].flatMap(([domain, words]) => [...words].map((term) => ({ term, payload: domain }))));
  }

  /**
   * `ruleDomains` are the domains of rule hits and fired schemes already found for the post
   * (`weight` per occurrence), so the rules' own judgement counts.
   */
  classify(text: string, ruleDomains: readonly { domain: string; weight: number }[] = []): DomainResult {
    const scores: Record<string, number> = {};
    const counts = new Map<string, DomainEvidence>();
    this.matcher.forEachMatch(text, (_start, _end, term, domain) => {
      scores[domain] = (scores[domain] ?? 0) + DOMAIN_WEIGHTS.keyword;
      const key = `${domain}\u0000${term}`;
      const e = counts.get(key);
      if (e) e.count++;
      else counts.set(key, { keyword: term, domain, count: 1 });
    });
    for (const { domain, weight } of ruleDomains) scores[domain] = (scores[domain] ?? 0) + weight;
    let label: string | null = null;
    let best = 0;
    for (const [domain, score] of Object.entries(scores)) {
      if (score > best) {
        best = score;
        label = domain;
      }
    }
    const evidence = [...counts.values()].sort((a, b) => b.count - a.count).slice(0, 10);
    return { label, scores, evidence };
  }
}
